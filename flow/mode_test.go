package flow_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/flow"
)

// fakeHost returns a topology of n CPUs, read from a sysfs-like tree as affinity reads the
// real one.
func fakeHost(t *testing.T, n int) affinity.Topology {
	t.Helper()
	fsys := fstest.MapFS{}
	ids := make([]int, n)
	for id := range n {
		dir := fmt.Sprintf("cpu%d/topology/", id)
		fsys[dir+"core_id"] = &fstest.MapFile{Data: fmt.Appendf(nil, "%d\n", id)}
		fsys[dir+"physical_package_id"] = &fstest.MapFile{Data: []byte("0\n")}
		ids[id] = id
	}
	topo, err := affinity.LoadTopology(fsys, ids)
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// modesOf runs g briefly and returns each level's mode as Stats reports it, checking that
// every stage of a level agrees and that String names the same mode.
func modesOf(t *testing.T, g *flow.Graph) map[string]flow.Mode {
	t.Helper()
	start(t, g)
	defer mustStop(t, g, nil)
	got := map[string]flow.Mode{}
	for _, s := range g.Stats() {
		if m, ok := got[s.Level]; ok && m != s.Mode {
			t.Fatalf("level %s runs stages in both %s and %s", s.Level, m, s.Mode)
		}
		got[s.Level] = s.Mode
	}
	desc := g.String()
	for name, m := range got {
		if !strings.Contains(desc, fmt.Sprintf("%q", name)) || !strings.Contains(desc, m.String()) {
			t.Fatalf("String does not show level %s as %s:\n%s", name, m, desc)
		}
	}
	if !strings.Contains(g.DOT(), " "+got["work"].String()) {
		t.Fatalf("DOT does not show the work level's mode:\n%s", g.DOT())
	}
	return got
}

func TestAutoModeFitsStagesToCPUs(t *testing.T) {
	// A chain of input → work ×w → sink ×1: w+1 stages.
	chain := func(cpus, w int, opts ...flow.Option) *flow.Graph {
		g := flow.New(flow.GraphMode(flow.Auto), flow.WithTopology(fakeHost(t, cpus)))
		flow.Input[int](g).Then(w, id, append(opts, flow.Name("work"))...).Sink(1, func(int) {}, flow.Name("sink"))
		return g
	}
	tests := []struct {
		name string
		g    *flow.Graph
		want map[string]flow.Mode
	}{
		{"fits exactly", chain(4, 3), map[string]flow.Mode{"work": flow.Dedicated, "sink": flow.Dedicated}},
		{"fits with room", chain(16, 3), map[string]flow.Mode{"work": flow.Dedicated, "sink": flow.Dedicated}},
		{"one stage too many", chain(4, 4), map[string]flow.Mode{"work": flow.Shared, "sink": flow.Shared}},
		{"oversubscribed", chain(2, 8), map[string]flow.Mode{"work": flow.Shared, "sink": flow.Shared}},
		{"level asks dedicated", chain(2, 8, flow.StageMode(flow.Dedicated)), map[string]flow.Mode{"work": flow.Dedicated, "sink": flow.Shared}},
		{"level asks shared", chain(16, 3, flow.StageMode(flow.Shared)), map[string]flow.Mode{"work": flow.Shared, "sink": flow.Dedicated}},
		{"pinned level", chain(2, 8, flow.CPUs(0)), map[string]flow.Mode{"work": flow.Dedicated, "sink": flow.Shared}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := modesOf(t, tt.g)
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("level %s runs %s, want %s", name, got[name], want)
				}
			}
		})
	}
}

func TestGraphModeAndSources(t *testing.T) {
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			g := flow.New(flow.GraphMode(mode), flow.WithTopology(fakeHost(t, 64)))
			flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
				s.Finish()
				return nil
			}, flow.Name("src")).Then(2, id, flow.Name("work")).Sink(1, func(int) {}, flow.Name("sink"))
			got := modesOf(t, g)
			want := map[string]flow.Mode{"src": mode, "work": mode, "sink": mode}
			for name, m := range want {
				if got[name] != m {
					t.Errorf("level %s runs %s, want %s", name, got[name], m)
				}
			}
		})
	}
}

// TestSourceLevelModes: a source's own StageMode wins over the graph's mode, a pinned source
// runs dedicated even in a shared graph, and either way it has its loop and delivers what
// it emits through a ring kept full (capacity 2) to a level of the other mode.
func TestSourceLevelModes(t *testing.T) {
	tests := []struct {
		name      string
		graph     flow.Mode
		src       []flow.Option
		want      flow.Mode
		readerOpt flow.Option
	}{
		{"shared source, dedicated graph", flow.Dedicated, []flow.Option{flow.StageMode(flow.Shared)}, flow.Shared, flow.StageMode(flow.Dedicated)},
		{"dedicated source, shared graph", flow.Shared, []flow.Option{flow.StageMode(flow.Dedicated)}, flow.Dedicated, flow.StageMode(flow.Shared)},
		{"pinned source, shared graph", flow.Shared, []flow.Option{flow.CPUs(0)}, flow.Dedicated, flow.StageMode(flow.Shared)},
		{"shared source into a dedicated level", flow.Shared, nil, flow.Shared, flow.StageMode(flow.Dedicated)},
	}
	const n = 2000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := flow.New(flow.GraphMode(tt.graph), flow.WithTopology(fakeHost(t, 64)))
			var bad atomic.Value
			opts := append([]flow.Option{flow.Name("src"), flow.Capacity(2)}, tt.src...)
			var got, sum atomic.Int64
			flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
				if s.Mode() != tt.want || s.Loop() == nil {
					bad.Store(fmt.Sprintf("source runs %v with loop %p, want %v with a loop", s.Mode(), s.Loop(), tt.want))
				}
				// Emit from a timer callback of the loop, into a ring of two slots.
				i := 0
				s.Loop().AfterFunc(0, func() {
					for ; i < n; i++ {
						if s.Emit(i) != nil {
							return
						}
					}
					s.Finish()
				})
				return nil
			}, opts...).Then(1, id, flow.Name("work"), tt.readerOpt, flow.Capacity(2)).
				Sink(1, func(v int) { got.Add(1); sum.Add(int64(v)) }, flow.Name("sink"))
			start(t, g)
			mustEnd(t, g)
			if v := bad.Load(); v != nil {
				t.Fatal(v)
			}
			if got.Load() != n || sum.Load() != n*(n-1)/2 {
				t.Fatalf("the sink got %d entries summing to %d, want %d summing to %d", got.Load(), sum.Load(), n, n*(n-1)/2)
			}
			for _, st := range g.Stats() {
				if st.Level == "src" && st.Mode != tt.want {
					t.Fatalf("Stats shows the source in mode %v, want %v", st.Mode, tt.want)
				}
			}
		})
	}
}

func TestModeMisuseIsReported(t *testing.T) {
	// A shared level pinned to a CPU, and a shared source pinned to one.
	build := func(g *flow.Graph, sinkOpts ...flow.Option) *flow.Graph {
		flow.Input[int](g).Then(1, id, flow.StageMode(flow.Shared), flow.CPUs(0), flow.Name("pinned")).
			Sink(1, func(int) {}, sinkOpts...)
		flow.Source(g, 1, func(*flow.SourceStage[int]) error { return nil }, flow.StageMode(flow.Shared), flow.CPUs(0), flow.Name("src")).
			Sink(1, func(int) {})
		return g
	}
	g := build(flow.New(flow.GraphMode(flow.Mode(9))), flow.StageMode(flow.Mode(7)))
	errorMentions(t, g.Start(t.Context()), "unknown graph mode 9", "unknown mode 7")
	// With a valid graph mode, the combinations that cannot run are named too.
	g = build(flow.New())
	errorMentions(t, g.Start(t.Context()),
		`level "pinned": a shared stage has no thread of its own to pin`, `level "src": a shared stage has no thread of its own to pin`)
}

func TestGOMAXPROCSRaisedWhileRunning(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	build := func(opts ...flow.GraphOption) *flow.Graph {
		g := flow.New(opts...)
		flow.Input[int](g).Then(2, id).Sink(3, func(int) {}) // 5 stages
		return g
	}
	a := build(flow.GraphMode(flow.Dedicated))
	b := build(flow.GraphMode(flow.Dedicated))
	fixed := build(flow.GraphMode(flow.Dedicated), flow.FixedGOMAXPROCS())
	shared := build(flow.GraphMode(flow.Shared))
	// A graph of both: only its dedicated stages (the sink's 3) raise GOMAXPROCS.
	mixed := flow.New(flow.GraphMode(flow.Shared))
	flow.Input[int](mixed).Then(2, id).Sink(3, func(int) {}, flow.StageMode(flow.Dedicated))
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
