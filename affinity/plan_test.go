package affinity

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPlanExact(t *testing.T) {
	nosmt2, smt8 := mustLoad(t, 1, 2, 1), mustLoad(t, 1, 4, 2)
	tests := []struct {
		name     string
		topo     Topology
		policy   Policy
		levels   []int
		explicit []int
		want     [][]int
		wrapped  bool
	}{
		{"nosmt2/compact", nosmt2, Compact, []int{1, 1}, nil, [][]int{{0}, {1}}, false},
		{"nosmt2/spread", nosmt2, Spread, []int{1, 1}, nil, [][]int{{0}, {1}}, false},
		{"nosmt2/compact/wrap", nosmt2, Compact, []int{2, 3}, nil, [][]int{{0, 1}, {0, 1, 0}}, true},
		{"nosmt2/spread/wrap", nosmt2, Spread, []int{1, 4, 1}, nil, [][]int{{0}, {1, 0, 1, 0}, {1}}, true},
		{"nosmt2/none", nosmt2, None, []int{2, 3}, nil, [][]int{{-1, -1}, {-1, -1, -1}}, false},
		// Siblings together: cpu0 and cpu4 are core 0.
		{"smt8/compact", smt8, Compact, []int{1, 2, 5}, nil, [][]int{{0}, {4, 1}, {5, 2, 6, 3, 7}}, false},
		// Four distinct cores first, then the siblings.
		{"smt8/spread", smt8, Spread, []int{1, 2, 5}, nil, [][]int{{0}, {1, 2}, {3, 4, 5, 6, 7}}, false},
		{"smt8/spread/4", smt8, Spread, []int{4}, nil, [][]int{{0, 1, 2, 3}}, false},
		{"smt8/compact/4", smt8, Compact, []int{4}, nil, [][]int{{0, 4, 1, 5}}, false},
		{"smt8/spread/wrap", smt8, Spread, []int{9}, nil, [][]int{{0, 1, 2, 3, 4, 5, 6, 7, 0}}, true},
		{"smt8/compact/wrap", smt8, Compact, []int{3, 3, 3}, nil, [][]int{{0, 4, 1}, {5, 2, 6}, {3, 7, 0}}, true},
		{"smt8/explicit/cycle", smt8, Explicit, []int{2, 3}, []int{3, 1}, [][]int{{3, 1}, {3, 1, 3}}, true},
		{"smt8/explicit/enough", smt8, Explicit, []int{1, 1}, []int{7, 6, 5}, [][]int{{7}, {6}}, false},
		{"smt8/explicit/repeat", smt8, Explicit, []int{1, 1}, []int{2, 2}, [][]int{{2}, {2}}, true},
		{"smt8/none", smt8, None, []int{1}, nil, [][]int{{-1}}, false},
		{"smt8/no levels", smt8, Spread, nil, nil, [][]int{}, false},
		// None needs no CPUs at all.
		{"empty/none", Topology{}, None, []int{2}, nil, [][]int{{-1, -1}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.topo.Plan(tt.policy, tt.levels, tt.explicit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.CPUs); diff != "" {
				t.Errorf("CPUs mismatch (-want +got):\n%s", diff)
			}
			if got.Wrapped != tt.wrapped {
				t.Errorf("Wrapped = %v; want %v", got.Wrapped, tt.wrapped)
			}
		})
	}
}

// TestPlan96 checks every assignment on two packages of 24 cores with two
// threads each, against orders written out from the numbering rule alone.
func TestPlan96(t *testing.T) {
	topo := mustLoad(t, 2, 24, 2)
	levels := []int{4, 48, 44} // 96 stages
	var compact, spread []int
	for k := range 96 {
		// Compact: package 0's cores, each with its sibling 48 above.
		pkg, core, thread := k/48, k%48/2, k%2
		compact = append(compact, thread*48+pkg*24+core)
		// Spread: round r of first (then second) threads, packages alternating.
		r, j := k/48, k%48
		spread = append(spread, r*48+j%2*24+j/2)
	}
	if !slices.Equal(compact[:4], []int{0, 48, 1, 49}) || !slices.Equal(spread[:4], []int{0, 24, 1, 25}) {
		t.Fatalf("the expected orders are wrong: %v %v", compact[:4], spread[:4])
	}
	for _, tc := range []struct {
		p    Policy
		want []int
	}{{Compact, compact}, {Spread, spread}} {
		t.Run(tc.p.String(), func(t *testing.T) {
			plan, err := topo.Plan(tc.p, levels, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, slices.Concat(plan.CPUs...)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if plan.Wrapped {
				t.Error("96 stages on 96 CPUs: Wrapped")
			}
			// One stage more wraps to the first CPU of the order.
			plan, err = topo.Plan(tc.p, []int{96, 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !plan.Wrapped || plan.CPUs[1][0] != tc.want[0] {
				t.Errorf("97 stages: Wrapped = %v, last CPU %d; want true, %d", plan.Wrapped, plan.CPUs[1][0], tc.want[0])
			}
		})
	}
}

// TestPlanHandBuilt plans on a topology built by hand, unsorted, with
// sparse ids and packages numbered out of order: packages and cores go by
// their lowest CPU ID, not by their ids.
func TestPlanHandBuilt(t *testing.T) {
	topo := Topology{CPUs: []CPU{
		{ID: 9, Core: 8, Package: 3},
		{ID: 2, Core: 8, Package: 3},
		{ID: 7, Core: 0, Package: 1},
		{ID: 3, Core: 0, Package: 1},
		{ID: 5, Core: 2, Package: 3},
	}}
	before := slices.Clone(topo.CPUs)
	for _, tc := range []struct {
		p    Policy
		want []int
	}{
		{Compact, []int{2, 9, 5, 3, 7}},
		{Spread, []int{2, 3, 5, 9, 7}},
	} {
		plan, err := topo.Plan(tc.p, []int{5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(plan.CPUs[0], tc.want) {
			t.Errorf("%v: %v; want %v", tc.p, plan.CPUs[0], tc.want)
		}
	}
	if !slices.Equal(topo.CPUs, before) {
		t.Errorf("Plan reordered its receiver: %v", topo.CPUs)
	}
}

func TestPlanErrors(t *testing.T) {
	smt8 := mustLoad(t, 1, 4, 2)
	dup := Topology{CPUs: []CPU{{ID: 1}, {ID: 0, Core: 1}, {ID: 1}}}
	tests := []struct {
		name     string
		topo     Topology
		policy   Policy
		levels   []int
		explicit []int
		want     []string // substrings of the message
	}{
		{"zero stages", smt8, Compact, []int{2, 0, 1}, nil, []string{"level 1 has 0 stages"}},
		{"negative stages", smt8, None, []int{-3}, nil, []string{"level 0 has -3 stages"}},
		{"explicit/negative", smt8, Explicit, []int{1}, []int{2, -1}, []string{"negative cpu -1"}},
		{"explicit/outside", smt8, Explicit, []int{1}, []int{3, 8}, []string{"cpu 8 is not in the topology", "cpus 0-7"}},
		{"explicit/empty", smt8, Explicit, []int{1}, nil, []string{"explicit: empty cpu list"}},
		{"explicit/empty topology", Topology{}, Explicit, []int{1}, []int{0}, []string{"cpu 0 is not in the topology (cpus none)"}},
		{"explicit with compact", smt8, Compact, []int{1}, []int{0}, []string{"policy compact", "only explicit"}},
		{"compact/empty topology", Topology{}, Compact, []int{1}, nil, []string{"compact: the topology has no cpus"}},
		{"spread/empty topology", Topology{}, Spread, []int{1}, nil, []string{"spread: the topology has no cpus"}},
		{"unknown policy", smt8, Policy(7), []int{1}, nil, []string{"unknown Policy(7)"}},
		{"duplicate cpu", dup, Spread, []int{1}, nil, []string{"lists cpu 1 twice"}},
		{"duplicate cpu/none", dup, None, []int{1}, nil, []string{"lists cpu 1 twice"}},
		{"duplicate cpu/explicit", dup, Explicit, []int{1}, []int{0}, []string{"lists cpu 1 twice"}},
		{"negative cpu in topology", Topology{CPUs: []CPU{{ID: 0}, {ID: -1, Core: 1}}}, Spread, []int{1}, nil, []string{"negative cpu -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := tt.topo.Plan(tt.policy, tt.levels, tt.explicit)
			if err == nil {
				t.Fatalf("Plan = %+v; want an error", plan)
			}
			checkErrorText(t, err, "affinity: plan", tt.want)
		})
	}
}

func BenchmarkPlan(b *testing.B) {
	topo := mustLoad(b, 2, 24, 2)
	for _, p := range []Policy{Compact, Spread} {
		b.Run(fmt.Sprintf("%v/cpus=96/stages=9", p), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := topo.Plan(p, []int{2, 4, 3}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
