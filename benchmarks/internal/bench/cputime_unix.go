//go:build linux || darwin || freebsd

package bench

import (
	"syscall"
	"time"
)

// processCPU returns the user and system CPU time the process has used, on every thread.
// getrusage rather than a per-thread clock: the work of a run is spread over stage threads,
// goroutines and the runtime's own (GC) threads, and all of it is the run's cost.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
