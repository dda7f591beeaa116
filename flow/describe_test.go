package flow_test

import (
	"strings"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// What a graph says about itself: String, DOT and Stats.

func diamondGraph() (*flow.Graph, *flow.Publisher[int]) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"), flow.Capacity(64))
	w := in.KeyBy(func(v int) uint64 { return uint64(v) }).Then(2, id, flow.Name("work"))
	a := w.Phase(1, func(*int) {}, flow.Name("journal"))
	b := w.Phase(1, func(*int) {}, flow.Name("replicate"))
	flow.Merge(a, b).Broadcast().Sink(2, func(int) {}, flow.Name("logic"))
	return g, in
}

func TestStringDescribesTheTopology(t *testing.T) {
	g, _ := diamondGraph()
	want := `input "in" ×1 cap=64
then "work" ×2 cap=8192 <- key "in"
phase "journal" ×1 <- phase "work"
phase "replicate" ×1 <- phase "work"
sink "logic" ×2 <- broadcast "work" after "journal" "replicate"
`
	if got := g.String(); got != want {
		t.Fatalf("String:\n%s\nwant:\n%s", got, want)
	}
}

func TestDOTRendersEveryLevelAndEdge(t *testing.T) {
	g, _ := diamondGraph()
	dot := g.DOT()
	for _, want := range []string{
		"digraph loopyring {",
		`n0 [label="in ×1" shape=invhouse];`,
		`n1 [label="work ×2" shape=box];`,
		`n0 -> n1 [label="key"];`,
		`n1 -> n2 [label="phase"];`,
		`n1 -> n4 [label="broadcast"];`,
		`n2 -> n4 [style=dashed];`,
		`n3 -> n4 [style=dashed];`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("DOT lacks %q:\n%s", want, dot)
		}
	}
}

func TestStatsCountEntriesAndBatches(t *testing.T) {
	g, in := diamondGraph()
	if g.Stats() != nil {
		t.Fatal("Stats before Start is not empty")
	}
	start(t, g)
	publishAll(t, in, 1000, id)
	mustStop(t, g, nil)
	byLevel := perLevel(g)
	for _, s := range g.Stats() {
		if s.Batches > 0 && (s.MeanBatch() <= 0 || s.MeanBatch() > float64(s.In)) {
			t.Errorf("%s/%d: mean batch %.1f from %d entries in %d batches", s.Level, s.Stage, s.MeanBatch(), s.In, s.Batches)
		}
		if s.CPU != -1 {
			t.Errorf("%s/%d pinned to CPU %d without a placement", s.Level, s.Stage, s.CPU)
		}
	}
	// Both work stages read the whole input ring (key routing) and together publish it once;
	// each phase sees the work level's 1000 entries; both logic stages see all of them.
	checks := []struct {
		level   string
		in, out uint64
	}{
		{"work", 2000, 1000},
		{"journal", 1000, 0},
		{"replicate", 1000, 0},
		{"logic", 2000, 0},
	}
	for _, c := range checks {
		got := byLevel[c.level]
		if got.In != c.in || got.Out != c.out || got.Batches == 0 {
			t.Errorf("%s: in %d out %d batches %d; want in %d out %d", c.level, got.In, got.Out, got.Batches, c.in, c.out)
		}
	}
	if byLevel["work"].Capacity != 8192 || byLevel["logic"].Capacity != 0 {
		t.Errorf("capacities: work %d, logic %d; want 8192 and 0", byLevel["work"].Capacity, byLevel["logic"].Capacity)
	}
}
