package flow_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// fatEntry is a 64-byte entry whose checksum the sink verifies, so that a slot reused before
// its reader released it would show.
type fatEntry struct {
	seq uint64
	pad [6]uint64
	sum uint64
}

func mkFatEntry(seq uint64) fatEntry {
	p := fatEntry{seq: seq}
	for i := range p.pad {
		p.pad[i] = seq*31 + uint64(i)
	}
	p.sum = seq ^ p.pad[5]
	return p
}

// TestSlowStageBoundsMemory pushes millions of 64-byte entries through a graph whose sink
// is much slower than its publishers. Backpressure must hold: the publishers wait on the
// full input ring, the middle stage blocks on its full output ring, and the heap does not
// grow with the number of entries (a runtime that buffered instead would hold hundreds of
// megabytes).
func TestSlowStageBoundsMemory(t *testing.T) {
	n := scale(2_000_000, 200_000)
	const capacity = 256
	g := flow.New()
	in := flow.Input[fatEntry](g, flow.Capacity(capacity))
	var bad atomic.Int64
	var got atomic.Int64
	in.Then(2, func(p fatEntry) fatEntry { return p }, flow.Capacity(capacity), flow.Name("middle")).
		Sink(1, func(p fatEntry) {
			if p.sum != p.seq^p.pad[5] || p.pad[0] != p.seq*31 {
				bad.Add(1)
			}
			if got.Add(1)%2048 == 0 {
				time.Sleep(200 * time.Microsecond) // the slow consumer
			}
		}, flow.Name("slow"))
	start(t, g)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	var maxQueue atomic.Int64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			for _, s := range g.Stats() {
				if int64(s.Queue) > maxQueue.Load() {
					maxQueue.Store(int64(s.Queue))
				}
			}
		}
	})

	var wg sync.WaitGroup
	per := n / 4
	for p := range 4 {
		wg.Go(func() {
			batch := make([]fatEntry, 32)
			for i := 0; i < per; i += len(batch) {
				for k := range batch {
					batch[k] = mkFatEntry(uint64(p*per + i + k))
				}
				if _, err := in.PublishBatch(context.Background(), batch); err != nil {
					t.Errorf("PublishBatch: %v", err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	doneWithin(t, g, done, "publishing through a slow stage", 4*drainLimit)
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	close(stop)
	sampler.Wait()

	total := int64(4 * ((per + 31) / 32) * 32)
	if got.Load() != total || bad.Load() != 0 {
		t.Fatalf("the slow sink got %d entries (%d corrupt), want %d intact", got.Load(), bad.Load(), total)
	}
	var blocked uint64
	for _, s := range g.Stats() {
		if s.Level == "middle" {
			blocked += s.Blocked
		}
	}
	if blocked == 0 {
		t.Fatalf("the middle stage never found its ring full: the sink was not slow enough to test backpressure\n%s", statsText(g))
	}
	if maxQueue.Load() > capacity {
		t.Fatalf("a stage's queue reached %d entries in a ring of %d", maxQueue.Load(), capacity)
	}
	const slack = 32 << 20
	grow := int64(peak.Load()) - int64(base)
	t.Logf("%d entries (%d MiB) through rings of %d: heap peak %+d KiB over the start, middle stage blocked %d times",
		total, total*64>>20, capacity, grow>>10, blocked)
	if grow > slack {
		t.Fatalf("the heap grew by %d MiB while %d entries (%d MiB) passed; backpressure should bound it",
			grow>>20, total, total*64>>20)
	}
}

// TestStopReleasesEveryBlockedPublisher blocks publishers of every kind on a full input ring
// behind a stuck sink, then stops the graph: each must return ErrStopped while the sink is
// still stuck (inputs close before the drain), and what they committed must be delivered.
func TestStopReleasesEveryBlockedPublisher(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(4))
	release := make(chan struct{})
	var delivered atomic.Int64
	in.Then(1, id, flow.Capacity(2)).Sink(1, func(int) {
		<-release
		delivered.Add(1)
	})
	start(t, g)
	const publishers = 8
	var committed atomic.Int64
	results := make(chan error, publishers)
	for p := range publishers {
		go func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; ; i++ {
				var err error
				switch p % 3 {
				case 0:
					err = in.Publish(ctx, i)
					if err == nil {
						committed.Add(1)
					}
				case 1:
					var k int
					k, err = in.PublishBatch(ctx, []int{i, i, i, i, i})
					committed.Add(int64(k))
				case 2:
					if err = in.TryPublish(i); errors.Is(err, flow.ErrFull) {
						err = nil
						runtime.Gosched()
					} else if err == nil {
						committed.Add(1)
					}
				}
				if err != nil {
					results <- err
					return
				}
			}
		}()
	}
	// Wait until the ring is full: nothing more gets committed for a while. (A PublishBatch
	// adds what it committed only when it returns, so the count can stay below the ring's
	// capacity.)
	for last, stable := int64(-1), 0; stable < 20; {
		time.Sleep(time.Millisecond)
		if c := committed.Load(); c != last {
			last, stable = c, 0
			continue
		}
		stable++
	}
	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop() }()
	for range publishers {
		select {
		case err := <-results:
			if !errors.Is(err, flow.ErrStopped) {
				t.Fatalf("a blocked publisher returned %v, want ErrStopped", err)
			}
		case <-time.After(drainLimit):
			t.Fatalf("a publisher blocked on a full ring was not released by Stop\n%s", statsText(g))
		}
	}
	close(release)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(drainLimit):
		t.Fatalf("Stop did not drain\n%s", statsText(g))
	}
	if delivered.Load() != committed.Load() {
		t.Fatalf("%d committed, %d delivered", committed.Load(), delivered.Load())
	}
}

// raceRun publishes from many goroutines, each numbering its own entries, until the graph
// is stopped by stopFn at a random moment, and checks entry by entry: every publish that
// succeeded was delivered exactly once, and nothing that failed was delivered.
func raceRun(t *testing.T, rng *rand.Rand, stopFn func(g *flow.Graph, cancel context.CancelFunc) error, wantErr error) {
	const publishers = 12
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := flow.New()
	in := flow.Input[uint64](g, flow.Capacity(16))
	delivered := map[uint64]int{} // the sink's goroutine only; read after Stop
	in.Then(2, func(v uint64) uint64 { return v }, flow.Capacity(8)).
		KeyBy(func(v uint64) uint64 { return v >> 32 }).
		Then(3, func(v uint64) uint64 { return v }, flow.Capacity(4)).
		Sink(1, func(v uint64) { delivered[v]++ })
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	accepted := make([]map[uint64]bool, publishers)
	var wg sync.WaitGroup
	for p := range publishers {
		accepted[p] = map[uint64]bool{}
		wg.Go(func() {
			mine := accepted[p]
			for i := uint64(0); ; {
				v := uint64(p)<<32 | i
				var err error
				switch p % 3 {
				case 0:
					if err = in.Publish(context.Background(), v); err == nil {
						mine[v] = true
					}
					i++
				case 1:
					vs := []uint64{v, v + 1, v + 2}
					var k int
					k, err = in.PublishBatch(context.Background(), vs)
					for _, x := range vs[:k] {
						mine[x] = true
					}
					i += 3
				case 2:
					if err = in.TryPublish(v); err == nil {
						mine[v] = true
					} else if errors.Is(err, flow.ErrFull) {
						err = nil
					}
					i++
				}
				if err != nil {
					if !errors.Is(err, flow.ErrStopped) {
						t.Errorf("publisher %d: %v", p, err)
					}
					return
				}
			}
		})
	}
	time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
	stopErr := make(chan error, 1)
	go func() { stopErr <- stopFn(g, cancel) }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	doneWithin(t, g, done, "publishers racing a stop", drainLimit)
	select {
	case err := <-stopErr:
		if !errors.Is(err, wantErr) {
			t.Fatalf("stop: %v, want %v", err, wantErr)
		}
	case <-time.After(drainLimit):
		t.Fatalf("the stop did not return\n%s", statsText(g))
	}
	total := 0
	for p, mine := range accepted {
		total += len(mine)
		for v := range mine {
			if delivered[v] != 1 {
				t.Fatalf("publisher %d: entry %d accepted, delivered %d times", p, v&(1<<32-1), delivered[v])
			}
		}
	}
	if len(delivered) != total {
		t.Fatalf("%d entries accepted, %d distinct delivered: something that failed to publish got in", total, len(delivered))
	}
}

func TestStopRacesManyPublishers(t *testing.T) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
	for range scale(12, 3) {
		raceRun(t, rng, func(g *flow.Graph, _ context.CancelFunc) error { return g.Stop() }, nil)
	}
}

func TestCancelMidRunRacesManyPublishers(t *testing.T) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), 2))
	for range scale(12, 3) {
		raceRun(t, rng, func(g *flow.Graph, cancel context.CancelFunc) error {
			cancel()
			waitWithin(t, g, drainLimit)
			return g.Wait()
		}, context.Canceled)
	}
}
