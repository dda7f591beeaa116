package flow_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/loopyring/loopyring/flow"
)

// Shapes of graphs: chains, expansion, fan-out, fan-in and a diamond of phases.

func TestLinearChain(t *testing.T) {
	n := scale(50000, 5000)
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(64))
	got := new(collector[string])
	in.Then(1, func(v int) int { return v * 3 }, flow.Capacity(8)).
		Filter(1, func(v int) (int, bool) { return v + 1, v%2 == 0 }).
		Then(1, func(v int) string { return string(rune('a' + v%26)) }).
		Sink(1, got.add)
	start(t, g)
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	var want []string
	for i := range n {
		if v := i * 3; v%2 == 0 {
			want = append(want, string(rune('a'+(v+1)%26)))
		}
	}
	if diff := cmp.Diff(want, got.items()); diff != "" {
		t.Fatalf("chain output differs (-want +got):\n%s", diff)
	}
}

func TestExpand(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	got := new(collector[int])
	in.Expand(1, func(v int, e *flow.Emitter[int]) {
		for k := range v % 4 {
			e.Emit(v*10 + k)
		}
	}, flow.Capacity(4)).Sink(1, got.add)
	start(t, g)
	n := 1000
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	var want []int
	for v := range n {
		for k := range v % 4 {
			want = append(want, v*10+k)
		}
	}
	if diff := cmp.Diff(want, got.items()); diff != "" {
		t.Fatalf("expand output differs (-want +got):\n%s", diff)
	}
}

func TestFanOutEachLevelSeesEverything(t *testing.T) {
	n := scale(20000, 2000)
	g := flow.New()
	in := flow.Input[int](g)
	doubled := in.Then(2, func(v int) int { return v * 2 })
	var a, b atomic.Int64
	var ca, cb atomic.Int64
	doubled.Sink(1, func(v int) { a.Add(int64(v)); ca.Add(1) })
	doubled.Sink(3, func(v int) { b.Add(int64(v)); cb.Add(1) })
	start(t, g)
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	want := int64(n * (n - 1)) // sum of 2i
	if ca.Load() != int64(n) || cb.Load() != int64(n) || a.Load() != want || b.Load() != want {
		t.Fatalf("fan-out: counts %d, %d sums %d, %d; want %d entries summing to %d each",
			ca.Load(), cb.Load(), a.Load(), b.Load(), n, want)
	}
}

func TestFanInMerge(t *testing.T) {
	n := scale(20000, 2000)
	g := flow.New()
	left := flow.Input[int](g, flow.Name("left"))
	right := flow.Input[int](g, flow.Name("right"))
	neg := right.Then(1, func(v int) int { return -v - 1 })
	got := new(collector[int])
	flow.Merge(left.Stream, neg).Sink(1, got.add)
	start(t, g)
	var wg sync.WaitGroup
	wg.Go(func() { publishAll(t, left, n, id) })
	wg.Go(func() { publishAll(t, right, n, id) })
	wg.Wait()
	mustStop(t, g, nil)
	items := got.items()
	var pos, negs []int
	for _, v := range items {
		if v >= 0 {
			pos = append(pos, v)
		} else {
			negs = append(negs, -v-1)
		}
	}
	// Each input's entries arrive complete and in order; their interleaving is free.
	if !slices.Equal(pos, seq(n)) || !slices.Equal(negs, seq(n)) {
		t.Fatalf("fan-in: got %d left and %d right entries, in order: %v %v", len(pos), len(negs),
			slices.IsSorted(pos), slices.IsSorted(negs))
	}
}

// order is an entry that the phases of a diamond stamp in place.
type order struct {
	id                           int
	journaled, replicated, final bool
	bad                          string
}

func TestDiamondOfPhases(t *testing.T) {
	n := scale(30000, 3000)
	g := flow.New()
	in := flow.Input[order](g, flow.Capacity(16))
	orders := in.Then(2, func(o order) order { return o }, flow.Capacity(8))
	a := orders.Phase(1, func(o *order) {
		if o.journaled || o.replicated || o.final {
			o.bad = "A after others"
		}
		o.journaled = true
	}, flow.Name("A"))
	var bSeen, cSeen atomic.Int64
	b := a.Phase(2, func(o *order) {
		if !o.journaled {
			o.bad = "B before A"
		}
		bSeen.Add(1)
	}, flow.Name("B"))
	c := a.Phase(1, func(o *order) {
		if !o.journaled {
			o.bad = "C before A"
		}
		o.replicated = true
	}, flow.Name("C"))
	d := flow.Merge(b, c).Phase(1, func(o *order) {
		if !o.replicated {
			o.bad = "D before C"
		}
		cSeen.Add(1)
		o.final = true
	}, flow.Name("D"))
	got := new(collector[order])
	d.Sink(1, got.add)
	start(t, g)
	publishAll(t, in, n, func(i int) order { return order{id: i} })
	mustStop(t, g, nil)
	items := got.items()
	if len(items) != n || bSeen.Load() != int64(n) || cSeen.Load() != int64(n) {
		t.Fatalf("diamond: sink got %d, B saw %d, D saw %d; want %d each", len(items), bSeen.Load(), cSeen.Load(), n)
	}
	ids := make([]int, 0, n)
	for _, o := range items {
		if o.bad != "" || !o.final {
			t.Fatalf("order %d: %q (final=%v)", o.id, o.bad, o.final)
		}
		ids = append(ids, o.id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, seq(n)) {
		t.Fatal("diamond: the sink did not see every order exactly once")
	}
}
