package flow_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// TestSteadyStateDoesNotAllocate runs entries through a chain of every level kind's hot path
// (input, map, batch map, phase, sink) in each mode and counts the allocations of the whole
// process per 1,000 entries: batches, commits, deferred wakes, sleeps and wakes must all
// reuse what Start built. (A per-batch allocation in the failure handling's defer once slipped
// in here: 1 allocation every ~80 entries.)
func TestSteadyStateDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			g := flow.New(flow.GraphMode(mode))
			in := flow.Input[int](g, flow.Capacity(1024))
			var seen atomic.Int64
			in.Then(2, id, flow.Capacity(1024)).
				ThenBatch(1, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
					for i := range b.Len() {
						e.Emit(*b.At(i))
					}
					return nil
				}, flow.Capacity(1024)).
				Phase(1, func(v *int) { *v++ }).
				Sink(2, func(int) { seen.Add(1) })
			start(t, g)
			defer mustStop(t, g, nil)
			vs := make([]int, 1000)
			ctx := context.Background()
			round := func() {
				want := seen.Load() + int64(len(vs))
				if _, err := in.PublishBatch(ctx, vs); err != nil {
					t.Fatal(err)
				}
				for seen.Load() < want {
					runtime.Gosched()
				}
			}
			for range 20 { // every stage has slept and woken, every waiter has its channel
				round()
			}
			if allocs := testing.AllocsPerRun(scale(100, 20), round); allocs > 1 {
				t.Fatalf("%v allocations per 1,000 entries, want at most 1", allocs)
			}
		})
	}
}
