package flow

import (
	"runtime"
	"sync"
)

// Every running stage is a goroutine locked to its own thread, and a thread runs Go code only
// while it holds one of the runtime's GOMAXPROCS Ps. With more awake stages than Ps, a stage
// woken by its event loop waits for a P until a running stage sleeps or is preempted (a
// scheduler time slice, up to 10 ms), so a graph wider than GOMAXPROCS runs on fewer threads
// than the host has cores: on the 2-core development machine the seed topology kept one core
// idle and ran at a third of the speed it reaches with a P per stage. Start therefore raises
// GOMAXPROCS by the graph's stage count while the graph runs and lets the kernel share the
// cores among the threads, as it would for any threaded program; the last running graph
// restores the value it found. FixedGOMAXPROCS opts out.
//
// Rejected: leaving GOMAXPROCS alone and documenting it (every user with more stages than
// cores would meet the cliff), and a P per stage only for stages that are awake (changing
// GOMAXPROCS stops the world, which the hot path cannot afford).
var procs struct {
	mu    sync.Mutex
	base  int // GOMAXPROCS before the first running graph raised it
	extra int // stages of the running graphs that raised it
}

// reserveProcs raises GOMAXPROCS by n for a graph that starts.
func reserveProcs(n int) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	if procs.extra == 0 {
		procs.base = runtime.GOMAXPROCS(0)
	}
	procs.extra += n
	runtime.GOMAXPROCS(procs.base + procs.extra)
}

// releaseProcs undoes reserveProcs(n) for a graph that has stopped.
func releaseProcs(n int) {
	procs.mu.Lock()
	defer procs.mu.Unlock()
	procs.extra -= n
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
