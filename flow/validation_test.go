package flow_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// Graphs that Start refuses, and what a graph whose Start failed still promises.

func TestValidationReportsEveryProblemAtOnce(t *testing.T) {
	other := flow.New()
	foreign := flow.Input[int](other)
	foreign.Sink(1, func(int) {})

	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"), flow.Capacity(3))
	in.Then(0, id, flow.Name("zero")).Sink(1, func(int) {}, flow.Name("s1"))
	in.Then(1, id, flow.Name("unread"))
	in.Then(1, id, flow.Name("dup")).Sink(1, func(int) {}, flow.Name("dup"))
	in.Then(1, id, flow.MaxBatch(0), flow.Spin(-1), flow.Capacity(1<<30+1)).Sink(1, func(int) {})
	in.KeyBy(func(v int) uint64 { return uint64(v) }).Phase(1, func(*int) {}, flow.Name("keyed-phase")).Sink(1, func(int) {})
	flow.Merge(in.Stream, foreign.Stream).Sink(1, func(int) {})
	var nilFn func(int) int
	in.Then(1, nilFn).Sink(1, func(int) {})

	errorMentions(t, g.Start(context.Background()),
		`"in": ring: capacity 3`,
		`"zero": 0 stages`,
		`"unread": output is never read`,
		`"dup": name already used`,
		`max batch 0 is below 1`,
		`spin -1ns is negative`,
		`capacity 1073741825`,
		`"keyed-phase": a phase sees every entry`,
		`Merge of streams from different graphs`,
		`nil function`,
	)
	if err := g.Start(context.Background()); !errors.Is(err, flow.ErrStarted) {
		t.Fatalf("second Start after a failed one: %v, want ErrStarted", err)
	}
	if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("Publish into a graph whose Start failed: %v, want ErrStopped", err)
	}
	if err := g.Wait(); err == nil {
		t.Fatal("Wait after a failed Start returned nil")
	}
}

// configCases each build a graph with exactly one problem and name the text Start must
// report for it. TestValidationReportsEveryProblemAtOnce checks that problems are joined;
// this table checks that each one is found on its own, so none hides behind another.
var configCases = []struct {
	name  string
	build func(g *flow.Graph)
	want  string
}{
	{"capacity not a power of two", func(g *flow.Graph) {
		flow.Input[int](g).Then(1, id, flow.Capacity(12), flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": ring: capacity 12 is not a power of two`},
	{"capacity one", func(g *flow.Graph) {
		flow.Input[int](g).Then(1, id, flow.Capacity(1), flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": ring: capacity 1 is below the minimum of 2`},
	{"capacity zero", func(g *flow.Graph) {
		flow.Input[int](g, flow.Capacity(0), flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": ring: capacity 0 is below the minimum`},
	{"capacity negative", func(g *flow.Graph) {
		flow.Input[int](g, flow.Capacity(-8), flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": ring: capacity -8 is below the minimum`},
	{"capacity too large", func(g *flow.Graph) {
		flow.Source(g, 1, func(*flow.SourceStage[int]) error { return nil }, flow.Capacity(1<<30+1), flow.Name("x")).
			Sink(1, func(int) {})
	}, `level "x": ring: capacity 1073741825 is above the maximum`},
	{"zero stages", func(g *flow.Graph) {
		flow.Input[int](g).Then(0, id, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": 0 stages; a level needs at least 1`},
	{"negative stages in a sink", func(g *flow.Graph) {
		flow.Input[int](g).Sink(-2, func(int) {}, flow.Name("x"))
	}, `level "x": -2 stages`},
	{"zero source stages", func(g *flow.Graph) {
		flow.Source(g, 0, func(*flow.SourceStage[int]) error { return nil }, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": 0 stages`},
	{"zero phase stages", func(g *flow.Graph) {
		flow.Input[int](g).Phase(0, func(*int) {}, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": 0 stages`},
	{"processing output never read", func(g *flow.Graph) {
		in := flow.Input[int](g)
		in.Sink(1, func(int) {})
		in.Then(1, id, flow.Name("x"))
	}, `level "x": output is never read`},
	{"input never read", func(g *flow.Graph) {
		flow.Input[int](g, flow.Name("x"))
	}, `level "x": output is never read`},
	{"source never read", func(g *flow.Graph) {
		flow.Source(g, 1, func(*flow.SourceStage[int]) error { return nil }, flow.Name("x"))
	}, `level "x": output is never read`},
	{"duplicate names", func(g *flow.Graph) {
		flow.Input[int](g, flow.Name("x")).Sink(1, func(int) {}, flow.Name("x"))
	}, `level "x": name already used by level #0`},
	{"duplicate of a default name", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, func(int) {}, flow.Name("input#0"))
	}, `level "input#0": name already used`},
	{"max batch zero", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, func(int) {}, flow.MaxBatch(0), flow.Name("x"))
	}, `level "x": max batch 0 is below 1`},
	{"max batch negative", func(g *flow.Graph) {
		flow.Input[int](g).Then(1, id, flow.MaxBatch(-5), flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": max batch -5 is below 1`},
	{"negative spin", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, func(int) {}, flow.Spin(-1), flow.Name("x"))
	}, `level "x": spin -1ns is negative`},
	{"nil error sink", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, func(int) {}, flow.OnError(flow.ErrorSink(nil)), flow.Name("x"))
	}, `level "x": nil error sink`},
	{"empty CPU list", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, func(int) {}, flow.CPUs(), flow.Name("x"))
	}, `level "x": empty CPU list`},
	// CPUs(-1) used to be accepted and leave the stage unpinned.
	{"negative CPU", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, func(int) {}, flow.CPUs(-1), flow.Name("x"))
	}, `level "x": negative CPU -1`},
	{"keyed phase", func(g *flow.Graph) {
		flow.Input[int](g).KeyBy(func(v int) uint64 { return uint64(v) }).
			Phase(1, func(*int) {}, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": a phase sees every entry of its rings; key routing does not apply`},
	{"broadcast phase", func(g *flow.Graph) {
		flow.Input[int](g).Then(2, id).Broadcast().
			PhaseErr(1, func(*int) error { return nil }, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": a phase sees every entry of its rings; broadcast routing does not apply`},
	{"partitioned phase", func(g *flow.Graph) {
		flow.Input[int](g).PartitionBy(id).
			Phase(1, func(*int) {}, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": a phase sees every entry of its rings; partition routing does not apply`},
	{"nil partition function", func(g *flow.Graph) {
		flow.Input[int](g).PartitionBy(nil).Sink(1, func(int) {}, flow.Name("x"))
	}, `level "x": PartitionBy with a nil partition function`},
	// Merge drops the routing of the streams it merges; it dropped a nil key function's
	// report with it.
	{"nil key function merged", func(g *flow.Graph) {
		flow.Merge(flow.Input[int](g).KeyBy(nil)).Sink(1, func(int) {})
	}, `flow: KeyBy with a nil key function`},
	{"merge across graphs", func(g *flow.Graph) {
		other := flow.New()
		foreign := flow.Input[int](other)
		in := flow.Input[int](g)
		flow.Merge(in.Stream, foreign.Stream).Sink(1, func(int) {})
	}, `Merge of streams from different graphs`},
	{"bad capacity on a sink", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, func(int) {}, flow.Name("x"), flow.Capacity(3))
	}, `level "x": ring: capacity 3`},
	{"bad capacity on a phase", func(g *flow.Graph) {
		flow.Input[int](g).Phase(1, func(*int) {}, flow.Name("x"), flow.Capacity(0)).Sink(1, func(int) {})
	}, `level "x": ring: capacity 0`},
	{"routing on both sides of Via", func(g *flow.Graph) {
		flow.Input[int](g).KeyBy(func(v int) uint64 { return uint64(v) }).
			Via(flow.Chain[int]().Broadcast().Then(2, id)).Sink(1, func(int) {})
	}, `a fragment's Broadcast given a stream already routed (key routing): route in one place`},
	{"merge of a nil stream", func(g *flow.Graph) {
		flow.Merge(nil, flow.Input[int](g).Stream).Sink(1, func(int) {})
	}, `Merge of a nil stream`},
	{"nil key function", func(g *flow.Graph) {
		flow.Input[int](g).KeyBy(nil).Sink(1, func(int) {}, flow.Name("x"))
	}, `level "x": KeyBy with a nil key function`},
	{"nil Then", func(g *flow.Graph) {
		var fn func(int) string
		flow.Input[int](g).Then(1, fn, flow.Name("x")).Sink(1, func(string) {})
	}, `level "x": nil function for a level reading int`},
	// A fragment's misuse is reported by Start of the graph it was applied to, with the
	// level's name, as Fragment promises; a nil function once came without it.
	{"nil function in a fragment", func(g *flow.Graph) {
		var fn func(int) int
		flow.Input[int](g).Via(flow.Chain[int]().Filter(1, func(v int) (int, bool) { return v, true }).
			Then(1, fn, flow.Name("x"))).Sink(1, func(int) {})
	}, `level "x": nil function for a level reading int`},
	{"nil Stateful", func(g *flow.Graph) {
		flow.Input[int](g).Stateful(1, flow.Stateful[int, int, int]{}, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": a Stateful level reading int needs exactly one of Each and Batch`},
	{"nil ThenErr", func(g *flow.Graph) {
		var fn func(int) (int, error)
		flow.Input[int](g).ThenErr(1, fn).Sink(1, func(int) {})
	}, `nil function`},
	{"nil Filter", func(g *flow.Graph) {
		var fn func(int) (int, bool)
		flow.Input[int](g).Filter(1, fn).Sink(1, func(int) {})
	}, `nil function`},
	{"nil Expand", func(g *flow.Graph) {
		var fn func(int, *flow.Emitter[int])
		flow.Input[int](g).Expand(1, fn).Sink(1, func(int) {})
	}, `nil function`},
	{"nil ExpandErr", func(g *flow.Graph) {
		var fn func(int, *flow.Emitter[int]) error
		flow.Input[int](g).ExpandErr(1, fn).Sink(1, func(int) {})
	}, `nil function`},
	{"nil ThenBatch", func(g *flow.Graph) {
		var fn func(*flow.Batch[int], *flow.Emitter[int]) error
		flow.Input[int](g).ThenBatch(1, fn).Sink(1, func(int) {})
	}, `nil function`},
	{"nil Sink", func(g *flow.Graph) {
		flow.Input[int](g).Sink(1, nil, flow.Name("x"))
	}, `level "x": nil sink function for int`},
	{"nil SinkErr", func(g *flow.Graph) {
		flow.Input[int](g).SinkErr(1, nil)
	}, `nil sink function`},
	{"nil SinkBatch", func(g *flow.Graph) {
		flow.Input[int](g).SinkBatch(1, nil)
	}, `nil sink function`},
	{"nil Phase", func(g *flow.Graph) {
		flow.Input[int](g).Phase(1, nil, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": nil phase function for int`},
	{"nil PhaseErr", func(g *flow.Graph) {
		flow.Input[int](g).PhaseErr(1, nil).Sink(1, func(int) {})
	}, `nil phase function`},
	{"nil Source", func(g *flow.Graph) {
		flow.Source[int](g, 1, nil, flow.Name("x")).Sink(1, func(int) {})
	}, `level "x": nil source function for int`},
}

func TestEachValidationErrorAlone(t *testing.T) {
	for _, tc := range configCases {
		t.Run(tc.name, func(t *testing.T) {
			g := flow.New()
			tc.build(g)
			err := g.Start(context.Background())
			if err == nil {
				_ = g.Stop()
				t.Fatalf("Start accepted the graph; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start: %v\nwant it to contain %q", err, tc.want)
			}
			if strings.Count(err.Error(), "\n") != 0 {
				t.Fatalf("one problem reported as several:\n%v", err)
			}
			checkFailedStart(t, g, err)
		})
	}
}

// checkFailedStart checks what a graph whose Start failed promises: it is done, and every
// later call reports the failure or ErrStarted instead of hanging.
func checkFailedStart(t *testing.T, g *flow.Graph, startErr error) {
	t.Helper()
	select {
	case <-g.Done():
	default:
		t.Fatal("Done is open after a failed Start")
	}
	if err := g.Wait(); err == nil || err.Error() != startErr.Error() {
		t.Fatalf("Wait after a failed Start: %v, want the Start error", err)
	}
	if err := g.Stop(); err == nil || err.Error() != startErr.Error() {
		t.Fatalf("Stop after a failed Start: %v, want the Start error", err)
	}
	if err := g.Start(context.Background()); !errors.Is(err, flow.ErrStarted) {
		t.Fatalf("Start after a failed Start: %v, want ErrStarted", err)
	}
}

func TestEmptyGraphIsRejected(t *testing.T) {
	g := flow.New()
	err := g.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "flow: the graph has no levels") {
		t.Fatalf("Start of an empty graph: %v", err)
	}
	checkFailedStart(t, g, err)
}
