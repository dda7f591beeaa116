package flow_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// Lifecycle calls racing each other and the publishers.

// TestConcurrentLifecycleCalls races Start, Stop and Wait from many goroutines: exactly one
// Start wins, and every Stop and Wait returns the same (nil) error once the graph is done.
func TestConcurrentLifecycleCalls(t *testing.T) {
	for range scale(10, 3) {
		g := flow.New()
		in := flow.Input[int](g, flow.Capacity(16))
		var delivered atomic.Int64
		in.Then(2, id, flow.Capacity(8)).Sink(1, func(int) { delivered.Add(1) })
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				switch err := g.Start(context.Background()); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, flow.ErrStarted):
					t.Errorf("concurrent Start: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent Starts succeeded, want 1", wins.Load())
		}
		var committed atomic.Int64
		for p := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					if err := in.Publish(context.Background(), p*1_000_000+i); err != nil {
						if !errors.Is(err, flow.ErrStopped) {
							t.Errorf("publish: %v", err)
						}
						return
					}
					committed.Add(1)
				}
			})
		}
		time.Sleep(2 * time.Millisecond)
		errs := make(chan error, 16)
		for k := range 16 {
			wg.Go(func() {
				if k%2 == 0 {
					errs <- g.Stop()
				} else {
					errs <- g.Wait()
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		doneWithin(t, g, done, "concurrent Stop and Wait", drainLimit)
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Stop or Wait: %v", err)
			}
		}
		if committed.Load() != delivered.Load() {
			t.Fatalf("%d committed, %d delivered", committed.Load(), delivered.Load())
		}
	}
}

// TestConcurrentStartStop starts and stops 9-stage graphs from six goroutines at once, in
// each mode: every dedicated graph raises and restores GOMAXPROCS while the others' locked
// threads run. A run of the earlier code stalled here once for a minute (Start waiting for
// its stages' ready signals); a watchdog turns any hang into a failure that prints every
// goroutine's stack.
func TestConcurrentStartStop(t *testing.T) {
	const workers = 6
	cycles := scale(60, 10)
	if raceEnabled {
		cycles = scale(20, 5)
	}
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			done := make(chan struct{})
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range cycles {
						g := flow.New(flow.GraphMode(mode))
						in := flow.Input[int](g, flow.Capacity(64))
						var seen atomic.Int64
						in.Then(1, id).Then(2, id).Then(4, id).Sink(2, func(int) { seen.Add(1) })
						if err := g.Start(t.Context()); err != nil {
							t.Error(err)
							return
						}
						for j := range 50 {
							if err := in.Publish(t.Context(), j); err != nil {
								t.Error(err)
							}
						}
						if err := g.Stop(); err != nil {
							t.Error(err)
							return
						}
						if seen.Load() != 50 {
							t.Errorf("%d of 50 delivered", seen.Load())
							return
						}
					}
				})
			}
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Minute):
				var b strings.Builder
				_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
				t.Fatalf("%d goroutines starting and stopping graphs did not finish in 2 minutes; every stack:\n%s", workers, b.String())
			}
		})
	}
}

// TestPublishRacingStart: a publish that reached the input ring while Start was still
// attaching readers returned nil for an entry that was never delivered, and Start failed.
func TestPublishRacingStart(t *testing.T) {
	for i := range scale(300, 50) {
		g := flow.New(flow.FixedGOMAXPROCS())
		in := flow.Input[int](g, flow.Capacity(1<<12))
		var got atomic.Int64
		in.Then(8, id, flow.Capacity(1<<12)).Sink(1, func(int) { got.Add(1) })
		res := make(chan error, 1)
		go func() {
			for {
				if err := in.TryPublish(1); !errors.Is(err, flow.ErrNotStarted) {
					res <- err
					return
				}
			}
		}()
		serr := g.Start(context.Background())
		perr := <-res
		if serr != nil {
			t.Fatalf("iteration %d: Start failed because of a concurrent publish: %v (publish returned %v)", i, serr, perr)
		}
		mustStop(t, g, nil)
		if perr == nil && got.Load() != 1 {
			t.Fatalf("iteration %d: the publish returned nil but %d entries were delivered", i, got.Load())
		}
	}
}

// TestStopRacingStart: a Stop while Start was building found no input ring to close, and
// the graph then ran forever.
func TestStopRacingStart(t *testing.T) {
	for i := range scale(200, 40) {
		g := flow.New(flow.FixedGOMAXPROCS())
		in := flow.Input[int](g, flow.Capacity(1<<12))
		in.Then(2, id, flow.Capacity(1<<12)).Sink(1, func(int) {})
		stopped := make(chan error, 1)
		go func() {
			for {
				if err := g.Stop(); !errors.Is(err, flow.ErrNotStarted) {
					stopped <- err
					return
				}
			}
		}()
		time.Sleep(time.Duration(i%5) * time.Microsecond)
		_ = g.Start(context.Background())
		select {
		case <-g.Done():
		case <-time.After(drainLimit):
			t.Fatalf("iteration %d: the graph never stopped after a Stop raced its Start", i)
		}
		<-stopped
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
		hung(t, g, "the stop did not return", drainLimit)
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
