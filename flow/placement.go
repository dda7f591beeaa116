package flow

import (
	"fmt"

	"github.com/loopyring/loopyring/affinity"
)

// plan returns the CPU of every stage (-1: not pinned), from the graph's placement policy
// and each level's own CPUs option.
func (g *Graph) plan() (map[*level][]int, error) {
	var staged []*level
	var counts []int
	for _, lv := range g.levels {
		if lv.kind != kindInput {
			staged = append(staged, lv)
			counts = append(counts, width(lv)) // a bad width is validate's to report
		}
	}
	out := make(map[*level][]int, len(staged))
	var planned [][]int
	if g.opts.placement == affinity.None && len(g.opts.explicit) > 0 {
		return nil, fmt.Errorf("flow: placement none with CPUs %v; use affinity.Explicit to pin to them", g.opts.explicit)
	}
	if g.opts.placement != affinity.None {
		topo := g.opts.topology
		if topo == nil {
			t, err := affinity.ReadTopology()
			if err != nil {
				return nil, fmt.Errorf("flow: placement %s: %w", g.opts.placement, err)
			}
			topo = &t
		}
		p, err := topo.Plan(g.opts.placement, counts, g.opts.explicit)
		if err != nil {
			return nil, fmt.Errorf("flow: placement %s: %w", g.opts.placement, err)
		}
		planned = p.CPUs
	}
	for i, lv := range staged {
		cpus := make([]int, width(lv))
		for s := range cpus {
			switch {
			case len(lv.opts.cpus) > 0:
				cpus[s] = lv.opts.cpus[s%len(lv.opts.cpus)]
			case planned != nil:
				cpus[s] = planned[i][s]
			default:
				cpus[s] = -1
			}
		}
		out[lv] = cpus
	}
	return out, nil
}

// width is lv's width within the bounds validate enforces, so that planning a graph whose
// width validate will refuse allocates nothing absurd.
func width(lv *level) int { return min(max(lv.n, 1), MaxStages) }
