package affinity

import (
	"cmp"
	"fmt"
	"slices"
)

// A Plan places the stages of a graph: CPUs[level][stage] is the CPU that the
// stage should pin its thread to, or -1 for "do not pin" (policy None).
type Plan struct {
	CPUs [][]int
	// Wrapped reports that at least two stages share a CPU: there were fewer
	// CPUs than stages, or an explicit list named a CPU twice. That is allowed
	// (a 2-core laptop must still run a 9-stage graph) but the caller may want
	// to warn, since pinned stages that share a CPU cannot run in parallel.
	Wrapped bool
}

// Plan assigns a CPU to every stage of levels with stagesPerLevel[i] stages
// each. Stages are numbered level by level, and stage k gets the k-th CPU of
// the policy's order, wrapping around when the order runs out:
//
//   - None: no CPU; every entry is -1.
//   - Compact: package by package, core by core, SMT siblings together
//     (packages and cores taken in order of their lowest CPU ID). On a
//     4-core, 2-thread machine numbered like Linux (cpu0 and cpu4 share core
//     0) that is 0, 4, 1, 5, 2, 6, 3, 7.
//   - Spread: the first thread of every core, alternating packages, then the
//     second thread of every core, and so on. On the same machine that is
//     0, 1, 2, 3, 4, 5, 6, 7; on two packages of 24 cores it is 0, 24, 1, 25,
//     and so on.
//   - Explicit: the explicit list, in the order given.
//
// Plan returns an error for a level with fewer than one stage, for an unknown
// policy, for Compact or Spread on an empty topology, for Explicit with an
// empty list or a CPU that is negative or not in t, for an explicit list given
// with any other policy (it would be ignored, which is likely a mistake), and,
// whatever the policy, for a topology that lists a CPU twice or a negative
// CPU ID.
func (t Topology) Plan(p Policy, stagesPerLevel []int, explicit []int) (Plan, error) {
	total := 0
	for i, n := range stagesPerLevel {
		if n < 1 {
			return Plan{}, fmt.Errorf("affinity: plan: level %d has %d stages; a level needs at least one", i, n)
		}
		total += n
	}
	if err := t.check(); err != nil {
		return Plan{}, err
	}
	if p != Explicit && len(explicit) > 0 {
		return Plan{}, fmt.Errorf("affinity: plan: cpus %v given with policy %v; only %v uses them", explicit, p, Explicit)
	}
	order, err := t.order(p, explicit)
	if err != nil {
		return Plan{}, err
	}
	return assign(stagesPerLevel, order), nil
}

// check refuses a topology that lists a CPU twice or a negative CPU ID: -1
// in a Plan means "do not pin", so a CPU -1 would silently not be pinned.
func (t Topology) check() error {
	ids := make([]int, len(t.CPUs))
	for i, c := range t.CPUs {
		if c.ID < 0 {
			return fmt.Errorf("affinity: plan: the topology lists a negative cpu %d", c.ID)
		}
		ids[i] = c.ID
	}
	slices.Sort(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			return fmt.Errorf("affinity: plan: the topology lists cpu %d twice", ids[i])
		}
	}
	return nil
}

// order returns the sequence of CPUs that policy p hands out, or nil for None.
func (t Topology) order(p Policy, explicit []int) ([]int, error) {
	switch p {
	case None:
		return nil, nil
	case Explicit:
		return t.checkExplicit(explicit)
	case Compact, Spread:
		pkgs := t.group()
		if len(pkgs) == 0 {
			return nil, fmt.Errorf("affinity: plan %v: the topology has no cpus", p)
		}
		if p == Compact {
			return compactOrder(pkgs), nil
		}
		return spreadOrder(pkgs), nil
	}
	return nil, fmt.Errorf("affinity: plan: unknown %v", p)
}

func (t Topology) checkExplicit(explicit []int) ([]int, error) {
	if len(explicit) == 0 {
		return nil, fmt.Errorf("affinity: plan %v: empty cpu list", Explicit)
	}
	for _, c := range explicit {
		if c < 0 {
			return nil, fmt.Errorf("affinity: plan %v: negative cpu %d", Explicit, c)
		}
		if !slices.ContainsFunc(t.CPUs, func(x CPU) bool { return x.ID == c }) {
			return nil, fmt.Errorf("affinity: plan %v: cpu %d is not in the topology (cpus %s)", Explicit, c, t.idList())
		}
	}
	return explicit, nil
}

// assign deals order out to the stages, level by level, and notes whether any
// CPU was dealt twice. A nil order means None.
func assign(stagesPerLevel []int, order []int) Plan {
	plan := Plan{CPUs: make([][]int, len(stagesPerLevel))}
	used := make(map[int]bool)
	k := 0
	for i, n := range stagesPerLevel {
		level := make([]int, n)
		for s := range level {
			level[s] = -1
			if len(order) > 0 {
				c := order[k%len(order)]
				plan.Wrapped = plan.Wrapped || used[c]
				used[c] = true
				level[s] = c
			}
			k++
		}
		plan.CPUs[i] = level
	}
	return plan
}

// idList formats the topology's CPU IDs for error messages.
func (t Topology) idList() string {
	ids := make([]int, len(t.CPUs))
	for i, c := range t.CPUs {
		ids[i] = c.ID
	}
	slices.Sort(ids)
	return formatCPUList(ids)
}

// group arranges the CPUs as packages of cores of CPU IDs: pkgs[p][c] lists
// the IDs of core c of package p, ascending. Packages and cores are ordered by
// their lowest CPU ID rather than by their kernel ids, which are sparse on
// some machines and say nothing about distance.
func (t Topology) group() [][][]int {
	cpus := slices.SortedFunc(slices.Values(t.CPUs), func(a, b CPU) int { return cmp.Compare(a.ID, b.ID) })
	type coreKey struct{ pkg, core int }
	pkgIndex := make(map[int]int)
	coreIndex := make(map[coreKey]int)
	var pkgs [][][]int
	for _, c := range cpus {
		pi, ok := pkgIndex[c.Package]
		if !ok {
			pi = len(pkgs)
			pkgIndex[c.Package] = pi
			pkgs = append(pkgs, nil)
		}
		key := coreKey{c.Package, c.Core}
		ci, ok := coreIndex[key]
		if !ok {
			ci = len(pkgs[pi])
			coreIndex[key] = ci
			pkgs[pi] = append(pkgs[pi], nil)
		}
		pkgs[pi][ci] = append(pkgs[pi][ci], c.ID)
	}
	return pkgs
}

// compactOrder walks package by package, core by core, sibling by sibling.
func compactOrder(pkgs [][][]int) []int {
	var order []int
	for _, cores := range pkgs {
		for _, threads := range cores {
			order = append(order, threads...)
		}
	}
	return order
}

// spreadOrder takes thread r of every core before thread r+1 of any, and
// within one round alternates packages core by core, so that the first stages
// land on as many packages and cores as there are.
func spreadOrder(pkgs [][][]int) []int {
	var order []int
	for r := 0; ; r++ {
		before := len(order)
		for k := 0; ; k++ {
			more := false
			for _, cores := range pkgs {
				if k >= len(cores) {
					continue
				}
				more = true
				if r < len(cores[k]) {
					order = append(order, cores[k][r])
				}
			}
			if !more {
				break
			}
		}
		if len(order) == before {
			return order
		}
	}
}
