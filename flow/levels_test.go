package flow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/loopyring/loopyring/flow"
)

// TestFragmentInTwoGraphsAtOnce applies one fragment to two graphs that run at the same
// time: each gets levels of its own, and each delivers exactly its own entries, transformed.
func TestFragmentInTwoGraphsAtOnce(t *testing.T) {
	n := scale(20000, 2000)
	frag := flow.Level(3, func(v int) int { return v * 2 }).
		Filter(2, func(v int) (int, bool) { return v + 1, v%3 != 0 }).
		Expand(2, func(v int, e *flow.Emitter[int]) { e.Emit(v); e.Emit(-v) })
	want := func(base int) []int {
		var w []int
		for i := range n {
			v := (base + i) * 2
			if v%3 != 0 {
				w = append(w, v+1, -(v + 1))
			}
		}
		slices.Sort(w)
		return w
	}
	var wg sync.WaitGroup
	for gi, base := range []int{0, 1 << 20} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := flow.New()
			in := flow.Input[int](g)
			var got collector[int]
			in.Via(frag).Sink(2, got.add)
			if err := g.Start(context.Background()); err != nil {
				t.Errorf("graph %d: Start: %v", gi, err)
				return
			}
			for i := range n {
				if err := in.Publish(context.Background(), base+i); err != nil {
					t.Errorf("graph %d: Publish: %v", gi, err)
					break
				}
			}
			if err := g.Stop(); err != nil {
				t.Errorf("graph %d: Stop: %v", gi, err)
			}
			all := got.items()
			slices.Sort(all)
			if diff := cmp.Diff(want(base), all); diff != "" {
				t.Errorf("graph %d delivered (-want +got):\n%s", gi, diff)
			}
		}()
	}
	wg.Wait()
}

// TestFragmentKeyByKeepsOrderPerKey routes inside a fragment: entries with one key reach one
// stage of the next level in publication order.
func TestFragmentKeyByKeepsOrderPerKey(t *testing.T) {
	type kv struct{ k, v int }
	frag := flow.Level(1, func(v int) kv { return kv{v % 7, v} }).
		KeyBy(func(e kv) uint64 { return uint64(e.k) }).
		Then(4, func(e kv) kv { return e })
	out, err := frag.Run(context.Background(), seq(scale(20000, 2000)))
	if err != nil {
		t.Fatal(err)
	}
	last := map[int]int{}
	for _, e := range out {
		if prev, ok := last[e.k]; ok && e.v <= prev {
			t.Fatalf("key %d: %d after %d", e.k, e.v, prev)
		}
		last[e.k] = e.v
	}
	if len(out) != scale(20000, 2000) {
		t.Fatalf("%d entries delivered, want %d", len(out), scale(20000, 2000))
	}
}

// TestFragmentsCompose checks Chain, Fragment.Via, phases and batch levels in a fragment.
func TestFragmentsCompose(t *testing.T) {
	double := flow.Level(1, func(v int) int { return 2 * v })
	tag := flow.Chain[int]().
		Phase(1, func(v *int) { *v++ }).
		ThenBatch(1, func(b *flow.Batch[int], e *flow.Emitter[string]) error {
			for _, v := range b.All() {
				e.Emit(strings.Repeat("x", *v))
			}
			return nil
		})
	out, err := double.Via(tag).Run(context.Background(), []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"x", "xxx", "xxxxx"}, out); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	same, err := flow.Chain[int]().Run(context.Background(), []int{4, 5})
	if err != nil || !slices.Equal(same, []int{4, 5}) {
		t.Fatalf("the empty fragment gave %v, %v; want [4 5]", same, err)
	}
}

// TestFragmentMisuseIsABuildError: a nil fragment and a nil function inside one are reported
// by Start of the graph they are applied to, with everything else wrong.
func TestFragmentMisuseIsABuildError(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.Via((*flow.Fragment[int, int])(nil)).Sink(1, func(int) {})
	in.Via(flow.Level[int, int](1, nil, flow.Name("broken"))).Sink(1, func(int) {})
	err := g.Start(context.Background())
	if err == nil {
		t.Fatal("Start accepted a nil fragment and a nil function")
	}
	for _, want := range []string{"nil fragment", "nil function"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start's error does not mention %q:\n%v", want, err)
		}
	}
}

// TestFragmentRunReportsFailures: Run returns the graph's error, and what was delivered.
func TestFragmentRunReportsFailures(t *testing.T) {
	boom := errors.New("boom")
	frag := flow.Chain[int]().ThenErr(1, func(v int) (int, error) {
		if v == 3 {
			return 0, boom
		}
		return v, nil
	}, flow.Name("check"))
	out, err := frag.Run(context.Background(), seq(3))
	if err != nil || !slices.Equal(out, seq(3)) {
		t.Fatalf("Run of clean input: %v, %v", out, err)
	}
	_, err = frag.Run(context.Background(), seq(10))
	var se *flow.StageError
	if !errors.Is(err, boom) || !errors.As(err, &se) || se.Level != "check" {
		t.Fatalf("Run with a failing entry returned %v; want a StageError of level check wrapping boom", err)
	}
}

// TestFragmentRunLeavesNamesFree: Run's own input and sink take no name that a fragment's
// level could want.
func TestFragmentRunLeavesNamesFree(t *testing.T) {
	frag := flow.Level[int, int](1, func(v int) int { return v + 1 }, flow.Name("input")).
		Then(1, func(v int) int { return v * 2 }, flow.Name("output"))
	out, err := frag.Run(context.Background(), []int{1, 2, 3})
	if err != nil || !slices.Equal(out, []int{4, 6, 8}) {
		t.Fatalf("Run of levels named input and output: %v, %v; want [4 6 8]", out, err)
	}
}

// TestFragmentThatStartsWithARouting: a fragment may bring the routing of its first level,
// applied to a stream without one.
func TestFragmentThatStartsWithARouting(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{} // stage → entries
	frag := flow.Chain[int]().Broadcast().Then(2, func(v int) int { return v }).
		KeyBy(func(v int) uint64 { return uint64(v) }).Stateful(2, flow.Stateful[int, int, int]{
		Init: func(st *flow.Stage, _ *flow.Emitter[int]) (int, error) { return st.Index(), nil },
		Each: func(stage int, v int, e *flow.Emitter[int]) error {
			mu.Lock()
			seen[stage]++
			mu.Unlock()
			e.Emit(v)
			return nil
		},
	})
	out, err := frag.Run(context.Background(), seq(50))
	if err != nil || len(out) != 100 {
		t.Fatalf("Run: %d entries, %v; want 100 (every entry to both stages of the broadcast level)", len(out), err)
	}
	if seen[0]+seen[1] != 100 || seen[0] == 0 || seen[1] == 0 {
		t.Fatalf("the keyed level's stages saw %v; want 100 entries spread over both", seen)
	}
}
