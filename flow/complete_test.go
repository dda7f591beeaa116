package flow_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// TestCompletedFollowsTheSlowestPath: an input entry is finished only once everything it
// became is consumed, whatever happened to it on the way: dropped by a filter, failed under
// Skip, expanded into several, or sent to two levels. A sink that takes one entry at a time
// from a gate shows Completed never further than the entries consumed allow, and, once the
// sink has caught up with what was published, all the way.
func TestCompletedFollowsTheSlowestPath(t *testing.T) {
	const n = 60
	// copies is how many sink entries input i becomes: multiples of 3 are filtered out,
	// multiples of 5 (not of 3) fail, and the rest expand into i%3 copies (1 or 2).
	copies := func(i int) int {
		switch {
		case i%3 == 0, i%5 == 0:
			return 0
		}
		return i % 3
	}
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(128))
	gate := make(chan struct{})
	var consumed, other atomic.Int64
	mid := in.Filter(1, func(i int) (int, bool) { return i, i%3 != 0 }).
		ThenErr(1, func(i int) (int, error) {
			if i%5 == 0 {
				return 0, errors.New("fails")
			}
			return i, nil
		}, flow.OnError(flow.Skip)).
		Expand(1, func(i int, e *flow.Emitter[int]) {
			for range i % 3 {
				e.Emit(i)
			}
		})
	mid.Sink(1, func(int) {
		<-gate
		consumed.Add(1)
	}, flow.MaxBatch(1), flow.Name("gated"))
	mid.Sink(1, func(int) { other.Add(1) }, flow.Name("other"))
	start(t, g)
	t.Cleanup(func() { close(gate) }) // before the Stop that start registered
	publishAll(t, in, n/2, id)

	// finishedAfter is the model: how many inputs are finished once the gated sink has
	// consumed k entries (the other sink keeps up by itself).
	finishedAfter := func(k int) int64 {
		for i := range n {
			if k -= copies(i); k < 0 {
				return int64(i)
			}
		}
		return n
	}
	total := 0
	for i := range n {
		total += copies(i)
	}
	half := 0
	for i := range n / 2 {
		half += copies(i)
	}
	for k := 0; k <= total; k++ {
		if got, most := in.Completed(), finishedAfter(k); got > most {
			t.Fatalf("after %d entries consumed, Completed is %d, more than the %d finished", k, got, most)
		}
		if k == half {
			// The sink has taken all that the first half became: it is all finished.
			if !eventually(func() bool { return in.Completed() == n/2 }) {
				t.Fatalf("once the first half was consumed, Completed is %d, want %d", in.Completed(), n/2)
			}
			publishAll(t, in, n/2, func(i int) int { return n/2 + i })
		}
		if k == total {
			break
		}
		gate <- struct{}{}
		if !eventually(func() bool { return consumed.Load() == int64(k+1) }) {
			t.Fatal("the gated sink did not take its entry")
		}
	}
	if !eventually(func() bool { return in.Completed() == n }) {
		t.Fatalf("once everything was consumed, Completed is %d, want %d", in.Completed(), n)
	}
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if got := in.Completed(); got != n {
		t.Fatalf("after Stop Completed is %d, want %d", got, n)
	}
}

// TestCompletedNeverAheadOfTheSinks runs wide levels with shared, key and broadcast routing
// and a phase, and checks on every sink entry that no entry a sink has yet to see was
// counted as finished.
func TestCompletedNeverAheadOfTheSinks(t *testing.T) {
	n := scale(20000, 2000)
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(256))
	var seen [2][]atomic.Bool
	for i := range seen {
		seen[i] = make([]atomic.Bool, n)
	}
	var violations atomic.Int64
	check := func(sink int) func(int) {
		return func(v int) {
			// Every input below Completed must have been seen by both sinks already; v has
			// not been seen by this one until now, so Completed must not pass it.
			if c := in.Completed(); c > int64(v) {
				violations.Add(1)
			}
			seen[sink][v].Store(true)
		}
	}
	mid := in.Then(3, id).
		Phase(1, func(*int) {}).
		KeyBy(func(v int) uint64 { return uint64(v) }).
		Then(2, id)
	mid.Sink(2, check(0))
	mid.Broadcast().Sink(2, func(v int) {
		if c := in.Completed(); c > int64(v) {
			violations.Add(1)
		}
	})
	mid.Sink(1, check(1))
	start(t, g)
	publishAll(t, in, n, id)
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if v := violations.Load(); v != 0 {
		t.Fatalf("%d entries were counted as finished before a sink saw them", v)
	}
	if got := in.Completed(); got != int64(n) {
		t.Fatalf("after Stop Completed is %d, want %d", got, n)
	}
}

// TestSourceCompleted: a source sees its own entries finish, and none before the sink that
// reads them has taken them.
func TestSourceCompleted(t *testing.T) {
	const n = 100
	release := make(chan struct{})
	g := flow.New()
	var ss atomic.Pointer[flow.SourceStage[int]]
	src := flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
		ss.Store(s)
		for i := range n {
			if err := s.Emit(i); err != nil {
				return err
			}
		}
		s.Flush()
		return nil
	})
	var got atomic.Int64
	src.Then(2, id).Sink(1, func(int) {
		<-release
		got.Add(1)
	})
	start(t, g)
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // before the Stop that start registered
	if !eventually(func() bool { return ss.Load() != nil }) {
		t.Fatal("the source never ran")
	}
	if c := ss.Load().Completed(); c != 0 {
		t.Fatalf("Completed is %d while the sink holds every entry", c)
	}
	open()
	if !eventually(func() bool { return ss.Load().Completed() == n }) {
		t.Fatalf("Completed is %d once the sink took all %d entries", ss.Load().Completed(), n)
	}
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestCompletedBeforeStart is 0, and Completed of a publisher never panics.
func TestCompletedBeforeStart(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.Sink(1, func(int) {})
	if c := in.Completed(); c != 0 {
		t.Fatalf("Completed before Start is %d", c)
	}
	start(t, g)
	if err := in.Publish(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if !eventually(func() bool { return in.Completed() == 1 }) {
		t.Fatalf("Completed is %d", in.Completed())
	}
}
