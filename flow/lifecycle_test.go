package flow_test

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

func TestEmptyGraphAndInputFedByNothing(t *testing.T) {
	if err := flow.New().Start(context.Background()); err == nil || !strings.Contains(err.Error(), "no levels") {
		t.Fatalf("empty graph: %v", err)
	}
}

func TestLifecycleMisuse(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.Sink(1, func(int) {})
	if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("Publish before Start: %v", err)
	}
	if err := in.TryPublish(1); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("TryPublish before Start: %v", err)
	}
	if err := g.Stop(); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := g.Wait(); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("Wait before Start: %v", err)
	}
	start(t, g)
	if err := g.Start(context.Background()); !errors.Is(err, flow.ErrStarted) {
		t.Fatalf("double Start: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("adding a level to a running graph did not panic")
			}
		}()
		in.Sink(1, func(int) {})
	}()
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("Publish after Stop: %v", err)
	}
	if err := in.TryPublish(1); !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("TryPublish after Stop: %v", err)
	}
	if n, err := in.PublishBatch(context.Background(), []int{1, 2}); n != 0 || !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("PublishBatch after Stop: %d, %v", n, err)
	}
}

func TestStopDrainsWhilePublishersPublish(t *testing.T) {
	for round := range scale(5, 2) {
		g := flow.New()
		in := flow.Input[int](g, flow.Capacity(8))
		var delivered atomic.Int64
		in.Then(2, func(v int) int { return v }, flow.Capacity(4)).
			Then(3, func(v int) int { return v }, flow.Capacity(4)).
			Sink(1, func(int) { delivered.Add(1) })
		start(t, g)
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for p := range 6 {
			wg.Go(func() {
				for i := 0; ; i++ {
					var err error
					if p%2 == 0 {
						err = in.Publish(context.Background(), i)
					} else {
						var n int
						n, err = in.PublishBatch(context.Background(), []int{i, i, i})
						accepted.Add(int64(n))
						if err == nil {
							continue
						}
					}
					if err != nil {
						if !errors.Is(err, flow.ErrStopped) {
							t.Errorf("publish: %v", err)
						}
						return
					}
					accepted.Add(1)
				}
			})
		}
		time.Sleep(time.Duration(5+round*7) * time.Millisecond)
		if err := stopWithin(t, g, drainLimit); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if accepted.Load() != delivered.Load() {
			t.Fatalf("round %d: %d entries accepted but %d delivered", round, accepted.Load(), delivered.Load())
		}
	}
}

func TestStopReleasesPublisherBlockedOnFullRing(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(2))
	release := make(chan struct{})
	in.Sink(1, func(int) { <-release })
	start(t, g)
	blocked := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if err := in.Publish(context.Background(), i); err != nil {
				blocked <- err
				return
			}
		}
	}()
	time.Sleep(20 * time.Millisecond) // the sink holds one entry; the ring fills behind it
	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop() }()
	select {
	case err := <-blocked:
		if !errors.Is(err, flow.ErrStopped) {
			t.Fatalf("blocked Publish returned %v, want ErrStopped", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a publisher blocked on a full ring was not released by Stop")
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
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

func TestContextCancellationStopsTheGraph(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var n atomic.Int64
	in.Then(2, func(v int) int { return v }).Sink(1, func(int) { n.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	publishAll(t, in, 1000, func(i int) int { return i })
	cancel()
	select {
	case <-g.Done():
	case <-time.After(drainLimit):
		t.Fatal("cancelling the context did not stop the graph")
	}
	if err := g.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancellation: %v, want context.Canceled", err)
	}
	if n.Load() != 1000 {
		t.Fatalf("cancellation drained %d of 1000 committed entries", n.Load())
	}
}

func TestNoLeaksAcrossManyStartStopCycles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fd counting uses /proc")
	}
	before := openFDs(t)
	for range scale(40, 8) {
		g := flow.New()
		in := flow.Input[int](g)
		in.Then(2, func(v int) int { return v }).Then(3, func(v int) int { return v }).Sink(2, func(int) {})
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		publishAll(t, in, 100, func(i int) int { return i })
		if err := g.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if after := openFDs(t); after > before {
		t.Fatalf("open fds grew from %d to %d over start/stop cycles", before, after)
	}
	// goleak in TestMain checks the goroutines.
}

// TestIdleGraphSleeps asserts that an idle 9-stage graph, in each mode, costs under 0.1% of
// one core, and that no stage wakes while it idles: every stage sleeps (in its loop, or
// parked in the Go runtime) rather than spins or polls. The CPU time is the whole process's,
// from getrusage, so the bound also covers the runtime's own background work (about a
// third of it on the development machine); the race detector's runtime does many times
// more, so under -race the bound is 2%.
func TestIdleGraphSleeps(t *testing.T) {
	// Not shorter under -short: in one second the runtime's own work alone came close to
	// the bound.
	const window = 3 * time.Second
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			g := flow.New(flow.GraphMode(mode))
			in := flow.Input[int](g)
			in.Then(1, func(v int) int { return v }).
				Then(2, func(v int) int { return v }).
				Then(4, func(v int) int { return v }).
				Sink(2, func(int) {})
			start(t, g)
			for _, s := range g.Stats() {
				if s.Mode != mode {
					t.Fatalf("stage %s/%d runs %s, want %s", s.Level, s.Stage, s.Mode, mode)
				}
			}
			publishAll(t, in, 1000, func(i int) int { return i }) // wake everything once, then idle
			time.Sleep(100 * time.Millisecond)
			debug.FreeOSMemory() // collect and return memory now, not during the window
			before := g.Stats()
			cpu0 := cpuTime(t)
			time.Sleep(window)
			used := cpuTime(t) - cpu0
			for i, s := range g.Stats() {
				if s.Sleeps != before[i].Sleeps {
					t.Errorf("stage %s/%d went to sleep %d times while idle: something woke it", s.Level, s.Stage, s.Sleeps-before[i].Sleeps)
				}
			}
			t.Logf("idle 9-stage graph, %s: %v of CPU in %v (%.4f%% of a core)", mode, used, window, 100*float64(used)/float64(window))
			bound, permille := window/1000, 1.0
			if raceEnabled {
				bound, permille = window/50, 20
			}
			if used > bound {
				t.Fatalf("an idle 9-stage %s graph used %v of CPU in %v (bound: %.1f‰ of one core)", mode, used, window, permille)
			}
			mustStop(t, g, nil)
		})
	}
}

func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestStopAndWaitFromInsideAStage(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var stopErr, waitErr error
	var seen atomic.Int64
	in.Sink(1, func(v int) {
		seen.Add(1)
		if v == 3 {
			waitErr = g.Wait()
			stopErr = g.Stop() // begins the drain, cannot wait for it from here
		}
	})
	start(t, g)
	publishAll(t, in, 4, func(i int) int { return i })
	select {
	case <-g.Done():
	case <-time.After(drainLimit):
		t.Fatal("Stop called from a stage did not stop the graph")
	}
	if !errors.Is(stopErr, flow.ErrInsideStage) || !errors.Is(waitErr, flow.ErrInsideStage) {
		t.Fatalf("Stop and Wait from inside a stage: %v, %v; want ErrInsideStage", stopErr, waitErr)
	}
	if seen.Load() != 4 {
		t.Fatalf("saw %d of 4 committed entries", seen.Load())
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait outside the graph after an inside Stop: %v", err)
	}
}

func TestRequestStopFromASource(t *testing.T) {
	g := flow.New()
	src := flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
		for i := range 10 {
			if err := s.Emit(i); err != nil {
				return err
			}
		}
		g.RequestStop() // nothing more to say; the graph drains and stops
		return nil
	})
	var n atomic.Int64
	src.Sink(1, func(int) { n.Add(1) })
	g.RequestStop() // before Start: does nothing
	start(t, g)
	select {
	case <-g.Done():
	case <-time.After(drainLimit):
		t.Fatal("RequestStop from a source did not stop the graph")
	}
	if n.Load() != 10 {
		t.Fatalf("delivered %d of 10", n.Load())
	}
}

func TestGOMAXPROCSRaisedWhileRunning(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	build := func(opts ...flow.GraphOption) (*flow.Graph, *flow.Publisher[int]) {
		g := flow.New(opts...)
		in := flow.Input[int](g)
		in.Then(2, func(v int) int { return v }).Sink(3, func(int) {}) // 5 stages
		return g, in
	}
	a, _ := build(flow.GraphMode(flow.Dedicated))
	b, _ := build(flow.GraphMode(flow.Dedicated))
	fixed, _ := build(flow.GraphMode(flow.Dedicated), flow.FixedGOMAXPROCS())
	shared, _ := build(flow.GraphMode(flow.Shared))
	// A graph of both: only its dedicated stages (the sink's 3) raise GOMAXPROCS.
	mixed := flow.New(flow.GraphMode(flow.Shared))
	flow.Input[int](mixed).Then(2, func(v int) int { return v }).Sink(3, func(int) {}, flow.StageMode(flow.Dedicated))
	start(t, a)
	if got := runtime.GOMAXPROCS(0); got != base+5 {
		t.Fatalf("GOMAXPROCS with one 5-stage graph running: %d, want %d", got, base+5)
	}
	start(t, b)
	start(t, fixed)
	start(t, shared)
	if got := runtime.GOMAXPROCS(0); got != base+10 {
		t.Fatalf("GOMAXPROCS with two raising graphs, a fixed one and a shared one: %d, want %d", got, base+10)
	}
	start(t, mixed)
	if got := runtime.GOMAXPROCS(0); got != base+13 {
		t.Fatalf("GOMAXPROCS with a mixed graph too: %d, want %d", got, base+13)
	}
	for _, g := range []*flow.Graph{a, fixed, shared, mixed} {
		if err := g.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if got := runtime.GOMAXPROCS(0); got != base+5 {
		t.Fatalf("GOMAXPROCS after the first graph stopped: %d, want %d", got, base+5)
	}
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := runtime.GOMAXPROCS(0); got != base {
		t.Fatalf("GOMAXPROCS after every graph stopped: %d, want the original %d", got, base)
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
