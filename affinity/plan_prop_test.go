package affinity

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// drawTopology draws a machine of 1-3 packages, 1-5 cores each and 1-3
// threads per core (cores may differ), with CPU, core and package ids
// shuffled and sparse, as they are on real machines.
func drawTopology(t *rapid.T) Topology {
	var cpus []CPU
	pkgs := rapid.IntRange(1, 3).Draw(t, "pkgs")
	for p := range pkgs {
		cores := rapid.IntRange(1, 5).Draw(t, "cores")
		for c := range cores {
			for range rapid.IntRange(1, 3).Draw(t, "threads") {
				cpus = append(cpus, CPU{Core: c * 4, Package: 10 - p})
			}
		}
	}
	step := rapid.IntRange(1, 3).Draw(t, "step")
	order := rapid.Permutation(seq(len(cpus))).Draw(t, "ids")
	for i := range cpus {
		cpus[i].ID = order[i] * step
	}
	return Topology{CPUs: cpus}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

type coreKey struct{ pkg, core int }

// TestPlanProperties checks what every Compact and Spread plan must satisfy on
// random machines and stage counts.
func TestPlanProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		topo := drawTopology(t)
		levels := rapid.SliceOfN(rapid.IntRange(1, 12), 1, 4).Draw(t, "levels")
		policy := rapid.SampledFrom([]Policy{Compact, Spread}).Draw(t, "policy")
		before := slices.Clone(topo.CPUs)

		plan, err := topo.Plan(policy, levels, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(topo.CPUs, before) {
			t.Fatalf("Plan modified its receiver")
		}
		if len(plan.CPUs) != len(levels) {
			t.Fatalf("%d levels planned; want %d", len(plan.CPUs), len(levels))
		}
		for i, l := range plan.CPUs {
			if len(l) != levels[i] {
				t.Fatalf("level %d has %d CPUs; want %d", i, len(l), levels[i])
			}
		}
		byID := make(map[int]CPU)
		for _, c := range topo.CPUs {
			byID[c.ID] = c
		}
		flat := slices.Concat(plan.CPUs...)
		n := len(topo.CPUs)
		if plan.Wrapped != (len(flat) > n) {
			t.Fatalf("Wrapped = %v with %d stages on %d CPUs", plan.Wrapped, len(flat), n)
		}
		seen := make(map[int]bool)
		for k, c := range flat {
			if _, ok := byID[c]; !ok {
				t.Fatalf("stage %d on cpu %d, not in the topology", k, c)
			}
			if k < n && seen[c] {
				t.Fatalf("cpu %d used twice within the first %d stages: %v", c, n, flat)
			}
			if k >= n && c != flat[k-n] {
				t.Fatalf("stage %d on cpu %d; the wrap should repeat cpu %d", k, c, flat[k-n])
			}
			seen[c] = true
		}
		first := flat[:min(len(flat), n)]
		if policy == Compact {
			checkCompact(t, first, byID)
		} else {
			checkSpread(t, first, byID)
		}
	})
}

// checkCompact: every core, and every package, is one contiguous run.
func checkCompact(t *rapid.T, order []int, byID map[int]CPU) {
	doneCores := make(map[coreKey]bool)
	donePkgs := make(map[int]bool)
	for k := 1; k < len(order); k++ {
		prev, cur := byID[order[k-1]], byID[order[k]]
		if (coreKey{prev.Package, prev.Core}) != (coreKey{cur.Package, cur.Core}) {
			doneCores[coreKey{prev.Package, prev.Core}] = true
		}
		if prev.Package != cur.Package {
			donePkgs[prev.Package] = true
		}
		if doneCores[coreKey{cur.Package, cur.Core}] || donePkgs[cur.Package] {
			t.Fatalf("compact order %v comes back to cpu %d's core or package", order, cur.ID)
		}
	}
}

// checkSpread: no core gets a second stage before every core has one, and no
// package gets a second stage before every package has one.
func checkSpread(t *rapid.T, order []int, byID map[int]CPU) {
	cores := make(map[coreKey]bool)
	pkgs := make(map[int]bool)
	for _, c := range byID {
		cores[coreKey{c.Package, c.Core}] = true
		pkgs[c.Package] = true
	}
	usedCores := make(map[coreKey]bool)
	usedPkgs := make(map[int]bool)
	for k, id := range order {
		c := byID[id]
		key := coreKey{c.Package, c.Core}
		if k < len(cores) && usedCores[key] {
			t.Fatalf("spread order %v: cpu %d reuses a core among the first %d stages", order, id, len(cores))
		}
		if k < len(pkgs) && usedPkgs[c.Package] {
			t.Fatalf("spread order %v: cpu %d reuses a package among the first %d stages", order, id, len(pkgs))
		}
		usedCores[key] = true
		usedPkgs[c.Package] = true
	}
}

// TestPlanExplicitProperties checks that Explicit deals the list out in order
// and reports Wrapped exactly when a CPU carries two stages.
func TestPlanExplicitProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		topo := drawTopology(t)
		var ids []int
		for _, c := range topo.CPUs {
			ids = append(ids, c.ID)
		}
		explicit := rapid.SliceOfN(rapid.SampledFrom(ids), 1, 6).Draw(t, "explicit")
		levels := rapid.SliceOfN(rapid.IntRange(1, 5), 1, 3).Draw(t, "levels")
		plan, err := topo.Plan(Explicit, levels, explicit)
		if err != nil {
			t.Fatal(err)
		}
		flat := slices.Concat(plan.CPUs...)
		counts := make(map[int]int)
		for k, c := range flat {
			if c != explicit[k%len(explicit)] {
				t.Fatalf("stage %d on cpu %d; want %d", k, c, explicit[k%len(explicit)])
			}
			counts[c]++
		}
		shared := false
		for _, n := range counts {
			shared = shared || n > 1
		}
		if plan.Wrapped != shared {
			t.Fatalf("Wrapped = %v; stages share a CPU: %v (%v)", plan.Wrapped, shared, flat)
		}
	})
}
