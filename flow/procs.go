package flow

import (
	"runtime"
	"sync"
)

// What running graphs hold of the process: GOMAXPROCS raises, and the cores their stages
// occupy, which decide how many stages may spin (see wait.go).
//
// A dedicated stage is a goroutine locked to its own thread, and a thread runs Go code only
// while it holds one of the runtime's GOMAXPROCS Ps. With more awake dedicated stages than
// Ps, a stage woken by its event loop waits for a P until a running one sleeps or is
// preempted (a scheduler time slice), so a graph wider than GOMAXPROCS would run on fewer
// threads than the host has cores. Start therefore raises GOMAXPROCS by the graph's
// dedicated stages while the graph runs and lets the kernel share the cores among the
// threads, as it would for any threaded program; the last running graph restores the value
// it found. Shared stages are goroutines like any other and need no P of their own, so they
// raise nothing; a shared source is no exception, though it keeps a P while it sleeps in its
// loop, until the runtime takes the P back (raising GOMAXPROCS for it was measured: an idle
// timer source beside busy shared stages was then served on time, but diamond and seed
// lost a third of their throughput). FixedGOMAXPROCS opts out.
//
// Rejected: a raise by every stage (shared ones too), which lets the Go scheduler spread
// shared stages over more Ps than cores and turns hand-offs on one P into thread wakes;
// leaving GOMAXPROCS alone, which makes every user with more dedicated stages than cores
// meet the cliff; and a P per stage only while it is awake (changing GOMAXPROCS stops the
// world, which the hot path cannot afford).
var procs struct {
	mu     sync.Mutex
	base   int // GOMAXPROCS before the first running graph raised it
	extra  int // dedicated stages of the running graphs that raised it
	stages int // stages of every running graph
	cores  int // SetSpinCores: a fixed spin budget, or -1 for the spare cores
}

func init() { procs.cores = -1 }

// SetSpinCores fixes how many stages of the process may spin at once, across all graphs;
// n < 0 returns to the default, the allowed CPUs less the stages of every running graph
// (so that no spinner takes a core a stage needs). A fixed budget is for measuring spin on
// a host where the default is 0, or for leaving cores to the rest of the program.
func SetSpinCores(n int) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	procs.cores = max(n, -1)
	setSpinBudget()
}

// setSpinBudget applies the spin budget; procs.mu is held.
func setSpinBudget() {
	if procs.cores >= 0 {
		spinBudget.SetLimit(procs.cores)
		return
	}
	spinBudget.SetLimit(hostCPUs() - procs.stages)
}

// held is what one running graph holds.
type held struct {
	procs  int
	stages int
}

// reserve takes what g holds while it runs and updates the spin budget.
func (g *Graph) reserve() held {
	h := held{stages: g.stageCount()}
	if !g.opts.fixedProcs {
		for _, lv := range g.levels {
			if lv.mode == Dedicated {
				h.procs += len(lv.stages)
			}
		}
	}
	procs.mu.Lock()
	defer procs.mu.Unlock()
	if h.procs > 0 {
		if procs.extra == 0 {
			procs.base = runtime.GOMAXPROCS(0)
		}
		procs.extra += h.procs
		runtime.GOMAXPROCS(procs.base + procs.extra)
	}
	procs.stages += h.stages
	setSpinBudget()
	return h
}

// unreserve gives back what reserve took, once the graph has stopped.
func unreserve(h held) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	procs.stages -= h.stages
	setSpinBudget()
	if h.procs == 0 {
		return
	}
	procs.extra -= h.procs
	if procs.extra > 0 {
		runtime.GOMAXPROCS(procs.base + procs.extra)
		return
	}
	// Setting GOMAXPROCS turns off the runtime's own updates (from the CPU quota and
	// affinity). Give it back the default if that is what was in force, else the value found.
	runtime.SetDefaultGOMAXPROCS()
	if runtime.GOMAXPROCS(0) != procs.base {
		runtime.GOMAXPROCS(procs.base)
	}
}

// runningStages is how many stages the running graphs have.
func runningStages() int {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	return procs.stages
}
