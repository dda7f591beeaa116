package flow_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/flow"
)

func TestPlacementPinsStages(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pinning is implemented on Linux")
	}
	allowed, err := affinity.Allowed()
	if err != nil || len(allowed) < 1 {
		t.Skipf("allowed CPUs: %v %v", allowed, err)
	}
	g := flow.New(flow.Placement(affinity.Compact))
	in := flow.Input[int](g)
	var got []int
	in.Then(2, id, flow.Name("pinned")).
		Sink(1, func(v int) { got = append(got, v) }, flow.CPUs(allowed[len(allowed)-1]), flow.Name("explicit"))
	start(t, g)
	publishAll(t, in, 100, id)
	mustStop(t, g, nil)
	if len(got) != 100 {
		t.Fatalf("a pinned graph delivered %d of 100", len(got))
	}
	for _, s := range g.Stats() {
		if s.CPU < 0 {
			t.Errorf("%s/%d not pinned under Compact placement", s.Level, s.Stage)
		}
		if s.Level == "explicit" && s.CPU != allowed[len(allowed)-1] {
			t.Errorf("explicit level on CPU %d, want %d", s.CPU, allowed[len(allowed)-1])
		}
	}
}

func TestPlacementErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opt      flow.GraphOption
		want     string
		topology bool // the check reads the host's topology, which flow reads on Linux only
	}{
		{"explicit without cpus", flow.Placement(affinity.Explicit), "empty cpu list", true},
		{"explicit negative cpu", flow.Placement(affinity.Explicit, -1), "negative cpu -1", true},
		{"explicit cpu not on the host", flow.Placement(affinity.Explicit, 1<<20), "not in the topology", true},
		{"cpus with compact", flow.Placement(affinity.Compact, 0), "only explicit uses them", true},
		{"unknown policy", flow.Placement(affinity.Policy(42)), "unknown", true},
		// Placement(None, 0) used to ignore the list.
		{"cpus with none", flow.Placement(affinity.None, 0), "placement none with CPUs [0]", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.topology && runtime.GOOS != "linux" {
				t.Skip("placement reads the Linux topology")
			}
			g := flow.New(tc.opt)
			flow.Input[int](g).Then(2, id).Sink(1, func(int) {})
			err := g.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), "flow: placement") || !strings.Contains(err.Error(), tc.want) {
				if err == nil {
					_ = g.Stop()
				}
				t.Fatalf("Start: %v\nwant a placement error containing %q", err, tc.want)
			}
			checkFailedStart(t, g, err)
		})
	}
}

// TestPinFailureStopsTheGraph asks for a CPU no host has: the rings and stages are built
// before the pin fails, so Start must report it and tear everything down (goleak and the
// fd tests check the teardown).
func TestPinFailureStopsTheGraph(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.Then(2, id, flow.CPUs(1<<20), flow.Name("pinned")).Sink(1, func(int) {})
	err := g.Start(context.Background())
	if err == nil {
		_ = g.Stop()
		t.Fatal("Start pinned a stage to CPU 1<<20")
	}
	if !strings.Contains(err.Error(), `level "pinned" stage 0: pin to CPU 1048576`) ||
		!strings.Contains(err.Error(), `level "pinned" stage 1: pin to CPU 1048576`) {
		t.Fatalf("Start: %v\nwant both stages' pin failures, named", err)
	}
	checkFailedStart(t, g, err)
	if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("Publish after a failed Start: %v, want ErrStopped", err)
	}
}
