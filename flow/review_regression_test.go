package flow_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// Regression tests for problems a review of the stage runtime found.

// TestPublishRacingStart: a publish that reached the input ring while Start was still
// attaching readers returned nil for an entry that was never delivered, and Start failed.
func TestPublishRacingStart(t *testing.T) {
	for i := range scale(300, 50) {
		g := flow.New(flow.FixedGOMAXPROCS())
		in := flow.Input[int](g, flow.Capacity(1<<12))
		var got atomic.Int64
		in.Then(8, func(v int) int { return v }, flow.Capacity(1<<12)).Sink(1, func(int) { got.Add(1) })
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
		if err := stopWithin(t, g, drainLimit); err != nil {
			t.Fatal(err)
		}
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
		in.Then(2, func(v int) int { return v }, flow.Capacity(1<<12)).Sink(1, func(int) {})
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

// TestBusyStageDoesNotHoldOutputBack: a stage kept busy by a steady input deferred its
// readers' wakes until it went idle, so a rare output waited for the whole backlog.
func TestBusyStageDoesNotHoldOutputBack(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(1<<14))
	seen := make(chan time.Time, 1)
	in.Filter(1, func(v int) (int, bool) {
		time.Sleep(2 * time.Microsecond) // a busy stage with a backlog
		return v, v == 10
	}, flow.MaxBatch(16)).Sink(1, func(int) { seen <- time.Now() })
	start(t, g)
	batch := make([]int, 1<<14)
	for i := range batch {
		batch[i] = i
	}
	if _, err := in.PublishBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	published := time.Now()
	var at time.Time
	select {
	case at = <-seen:
	case <-time.After(drainLimit):
		t.Fatal("the filtered entry never arrived")
	}
	// The filter needs at least 16k × 2 µs ≈ 33 ms for its backlog; entry 10 must arrive
	// well before that (a generous bound: this is a stall check, not a latency benchmark).
	if lag := at.Sub(published); lag > 25*time.Millisecond {
		t.Fatalf("the filtered entry reached the sink %v after the burst: held back by the busy stage", lag)
	}
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
}
