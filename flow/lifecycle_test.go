package flow_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// A graph's life: Start, the drain on Stop, cancellation, RequestStop, sources that finish.

// TestInputFedByNothingStopsCleanly: an Input that nothing publishes into leaves its
// readers asleep for the graph's whole life. The graph must still start, and Stop must wake
// them and return, whether they read only that input or merge it with one that is fed.
func TestInputFedByNothingStopsCleanly(t *testing.T) {
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			g := flow.New(flow.GraphMode(mode))
			idle := flow.Input[int](g, flow.Name("idle"))
			idle.Then(2, id, flow.Name("idle-work")).
				Sink(1, func(v int) { t.Errorf("entry %d reached the sink of an input fed by nothing", v) })
			fed := flow.Input[int](g, flow.Name("fed"))
			var got atomic.Int64
			flow.Merge(idle.Stream, fed.Stream).Sink(2, func(int) { got.Add(1) }, flow.Name("merged"))
			start(t, g)
			publishAll(t, fed, 100, id)
			asleep := func() bool { // Stop must wake stages that sleep, not just catch them spinning
				for _, s := range g.Stats() {
					if s.Level == "idle-work" && s.Sleeps == 0 {
						return false
					}
				}
				return true
			}
			if !eventually(asleep) {
				t.Fatalf("the stages reading the idle input never went to sleep\n%s", statsText(g))
			}
			mustStop(t, g, nil)
			if err := g.Wait(); err != nil {
				t.Fatalf("Wait after a clean Stop: %v", err)
			}
			if got.Load() != 100 {
				t.Fatalf("the merged sink got %d of the 100 entries of the fed input", got.Load())
			}
			if s := perLevel(g)["idle-work"]; s.In != 0 || s.Out != 0 {
				t.Fatalf("the level reading an input fed by nothing took %d entries and published %d", s.In, s.Out)
			}
		})
	}
}

func TestStopDrainsWhilePublishersPublish(t *testing.T) {
	for round := range scale(5, 2) {
		g := flow.New()
		in := flow.Input[int](g, flow.Capacity(8))
		var delivered atomic.Int64
		in.Then(2, id, flow.Capacity(4)).
			Then(3, id, flow.Capacity(4)).
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
		mustStop(t, g, nil)
		wg.Wait()
		if accepted.Load() != delivered.Load() {
			t.Fatalf("round %d: %d entries accepted but %d delivered", round, accepted.Load(), delivered.Load())
		}
	}
}

// TestStopReleasesEveryBlockedPublisher blocks publishers of every kind on a full input ring
// behind a stuck sink, then stops the graph: each must return ErrStopped while the sink is
// still stuck (inputs close before the drain), and what they committed must be delivered.
// The stuck stage reads the input ring itself, or a stage between them fills its ring first.
func TestStopReleasesEveryBlockedPublisher(t *testing.T) {
	for _, between := range []bool{false, true} {
		name := "sink on the input"
		if between {
			name = "stage between"
		}
		t.Run(name, func(t *testing.T) {
			g := flow.New()
			release := make(chan struct{})
			var delivered atomic.Int64
			sink := func(int) {
				<-release
				delivered.Add(1)
			}
			var in *flow.Publisher[int]
			if between {
				in = flow.Input[int](g, flow.Capacity(4))
				in.Then(1, id, flow.Capacity(2)).Sink(1, sink)
			} else {
				in = flow.Input[int](g, flow.Capacity(2))
				in.Sink(1, sink)
			}
			start(t, g)
			stopReleasesBlockedPublishers(t, g, in, release, &delivered)
		})
	}
}

// stopReleasesBlockedPublishers runs the publishers of TestStopReleasesEveryBlockedPublisher
// until they block, stops g, checks that each is released, then opens release and checks
// that Stop drains what was committed.
func stopReleasesBlockedPublishers(t *testing.T, g *flow.Graph, in *flow.Publisher[int], release chan struct{}, delivered *atomic.Int64) {
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
			hung(t, g, "a publisher blocked on a full ring was not released by Stop", drainLimit)
		}
	}
	close(release)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(drainLimit):
		hung(t, g, "Stop did not drain", drainLimit)
	}
	if delivered.Load() != committed.Load() {
		t.Fatalf("%d committed, %d delivered", committed.Load(), delivered.Load())
	}
}

func TestContextCancellationStopsTheGraph(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var n atomic.Int64
	in.Then(2, id).Sink(1, func(int) { n.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	publishAll(t, in, 1000, id)
	cancel()
	waitWithin(t, g, drainLimit)
	if err := g.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancellation: %v, want context.Canceled", err)
	}
	if n.Load() != 1000 {
		t.Fatalf("cancellation drained %d of 1000 committed entries", n.Load())
	}
}

// TestCancelFromInsideAStageStopsTheGraph shows one way a stage stops its own graph: cancel
// the context given to Start (RequestStop is the other; Stop and Wait from a stage return
// ErrInsideStage, see TestStopAndWaitFromInsideAStage).
func TestCancelFromInsideAStageStopsTheGraph(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(64))
	var seen atomic.Int64
	in.Then(2, id).Sink(1, func(v int) {
		if seen.Add(1) == 100 {
			cancel()
		}
	})
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	const most = 1 << 22
	committed := int64(publishUntilRefused(t, in, most))
	if committed == most {
		t.Fatal("cancelling Start's context from inside a stage did not stop the inputs")
	}
	waitWithin(t, g, drainLimit)
	if err := g.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v, want context.Canceled", err)
	}
	if seen.Load() != committed {
		t.Fatalf("%d entries committed, %d delivered", committed, seen.Load())
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
	waitWithin(t, g, drainLimit)
	if n.Load() != 10 {
		t.Fatalf("delivered %d of 10", n.Load())
	}
}

func TestSourceFinishes(t *testing.T) {
	n := scale(30000, 3000)
	g := flow.New()
	src := flow.Source(g, 2, func(s *flow.SourceStage[int]) error {
		for i := range n {
			if err := s.Emit(s.Index()*n + i); err != nil {
				return err
			}
		}
		s.Finish()
		return nil
	})
	var sum, count atomic.Int64
	src.Then(2, id).Sink(1, func(v int) { sum.Add(int64(v)); count.Add(1) })
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustEnd(t, g)
	m := 2 * n
	if count.Load() != int64(m) || sum.Load() != int64(m*(m-1)/2) {
		t.Fatalf("got %d entries summing %d, want %d summing %d", count.Load(), sum.Load(), m, m*(m-1)/2)
	}
}

// TestStatsFromAStageDuringAFailedStart: Start held its lock while it waited for a failed
// start to drain, so a source calling Stats deadlocked it.
func TestStatsFromAStageDuringAFailedStart(t *testing.T) {
	g := flow.New()
	called := make(chan struct{})
	flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
		_ = g.Stats()
		close(called)
		return nil
	}).Sink(1, func(int) {}, flow.CPUs(1<<20)) // a CPU that does not exist: the pin fails
	errc := make(chan error, 1)
	go func() { errc <- g.Start(context.Background()) }()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Start with an impossible pin succeeded")
		}
	case <-time.After(drainLimit):
		t.Fatal("Start deadlocked with a stage calling Stats")
	}
	<-called
}
