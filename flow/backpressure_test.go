package flow_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// Full rings hold publishers and stages back, and bound memory.

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
	mustStop(t, g, nil)
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

func TestPublishHonoursContext(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(2))
	release := make(chan struct{})
	in.Sink(1, func(int) { <-release })
	start(t, g)
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var err error
	for i := 0; err == nil; i++ {
		err = in.Publish(ctx, i)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish on a full ring with an expiring context: %v", err)
	}
	if err := in.TryPublish(7); !errors.Is(err, flow.ErrFull) {
		t.Fatalf("TryPublish on a full ring: %v", err)
	}
}

// TestHugeMaxBatchIsBoundedByTheRing: a batch never exceeds the ring it comes from, so a
// MaxBatch far beyond it must cost no more memory than the ring.
func TestHugeMaxBatchIsBoundedByTheRing(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(64))
	var n atomic.Int64
	in.KeyBy(func(v int) uint64 { return uint64(v) }).
		SinkBatch(2, func(b *flow.Batch[int]) error { n.Add(int64(b.Len())); return nil }, flow.MaxBatch(math.MaxInt))
	start(t, g)
	publishAll(t, in, 1000, id)
	mustStop(t, g, nil)
	if n.Load() != 1000 {
		t.Fatalf("delivered %d of 1000", n.Load())
	}
}
