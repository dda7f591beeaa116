package affinity_test

import (
	"flag"
	"fmt"

	"github.com/loopyring/loopyring/affinity"
)

// A pipeline of three levels (1, 2 and 4 stages) on a machine of 4 cores with
// 2 SMT threads each, numbered as Linux numbers them: cpu0 and cpu4 are the
// two threads of core 0.
func ExampleTopology_Plan() {
	var topo affinity.Topology
	for id := range 8 {
		topo.CPUs = append(topo.CPUs, affinity.CPU{ID: id, Core: id % 4, Package: 0})
	}
	levels := []int{1, 2, 4}
	for _, p := range []affinity.Policy{affinity.None, affinity.Compact, affinity.Spread} {
		plan, err := topo.Plan(p, levels, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(p, plan.CPUs, plan.Wrapped)
	}
	// Two CPUs for seven stages: the plan wraps.
	plan, err := topo.Plan(affinity.Explicit, levels, []int{6, 7})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(affinity.Explicit, plan.CPUs, plan.Wrapped)
	// Output:
	// none [[-1] [-1 -1] [-1 -1 -1 -1]] false
	// compact [[0] [4 1] [5 2 6 3]] false
	// spread [[0] [1 2] [3 4 5 6]] false
	// explicit [[6] [7 6] [7 6 7 6]] true
}

// A command-line flag that chooses the placement policy.
func ExampleParsePolicy() {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	var placement affinity.Policy
	fs.TextVar(&placement, "placement", affinity.None, "stage placement: none, compact, spread or explicit")
	if err := fs.Parse([]string{"-placement", "Spread"}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(placement)

	_, err := affinity.ParsePolicy("numa")
	fmt.Println(err)
	// Output:
	// spread
	// affinity: unknown policy "numa" (want one of none, compact, spread, explicit)
}
