package bench

import (
	"fmt"
	"runtime"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/flow"
)

// Placement applies only to the loopyring side. flow pins its stages itself; where a
// topology runs on one ring with plain goroutines, each goroutine locks its thread and pins
// it by the same plan. The channel side is left to the Go scheduler: goroutines that hop
// between threads are what channels are designed for, and pinning them would be a
// different baseline.

// graphOptions returns the flow graph options for cfg's placement, mode and spin.
func graphOptions(cfg Config) []flow.GraphOption {
	opts := []flow.GraphOption{flow.GraphMode(cfg.Mode)}
	if cfg.Spin > 0 {
		opts = append(opts, flow.GraphSpin(cfg.Spin))
	}
	if cfg.Placement != affinity.None {
		opts = append(opts, flow.Placement(cfg.Placement))
	}
	return opts
}

// plan returns the CPU for each of n goroutines under cfg's placement, -1 for "do not pin".
func plan(cfg Config, n int) ([]int, error) {
	cpus := make([]int, n)
	if cfg.Placement == affinity.None {
		for i := range cpus {
			cpus[i] = -1
		}
		return cpus, nil
	}
	topo, err := affinity.ReadTopology()
	if err != nil {
		return nil, fmt.Errorf("placement %v: %w", cfg.Placement, err)
	}
	p, err := topo.Plan(cfg.Placement, []int{n}, nil)
	if err != nil {
		return nil, fmt.Errorf("placement %v: %w", cfg.Placement, err)
	}
	return p.CPUs[0], nil
}

// pinSelf locks the calling goroutine to its thread and pins the thread to cpu, unless cpu
// is -1. It never unlocks: the goroutine ends locked, so the runtime discards the pinned
// thread rather than hand it to other goroutines.
func pinSelf(cpu int) error {
	if cpu < 0 {
		return nil
	}
	runtime.LockOSThread()
	return affinity.Pin(cpu)
}
