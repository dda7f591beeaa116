package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// Regression tests for problems a review of the stage runtime found.

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
