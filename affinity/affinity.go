package affinity

import (
	"fmt"
	"slices"
)

// This file holds the portable half of the thread API. Each platform file
// (affinity_linux.go, affinity_other.go) defines the same four unexported
// functions:
//
//	onlineCPUs() ([]int, error)   // sorted
//	allowedCPUs() ([]int, error)  // sorted; shared, so read-only
//	threadCPUs() ([]int, error)   // the calling thread's mask, sorted
//	setThreadCPUs(cpus []int) error
//
// and returns an error wrapping errors.ErrUnsupported where it has no way to
// do the job. Their errors carry no "affinity:" prefix; the exported
// functions add it with the operation's name, once.

// Online returns the CPUs that exist and are online, sorted. On Linux it reads
// /sys/devices/system/cpu/online, which may list CPUs that this process is not
// allowed to use; see [Allowed]. Elsewhere it returns 0 to runtime.NumCPU()-1.
func Online() ([]int, error) {
	cpus, err := onlineCPUs()
	if err != nil {
		return nil, fmt.Errorf("affinity: online cpus: %w", err)
	}
	return cpus, nil
}

// Allowed returns the CPUs this process may run on, sorted: the affinity mask
// it was started with, which reflects cgroup cpusets and taskset. On platforms
// without thread affinity it returns an error wrapping errors.ErrUnsupported.
//
// On Linux the mask is read once, while the package is initialised, from the
// main thread. Reading it later would be wrong: every thread has its own mask,
// the calling thread may already be pinned, and so may the main thread (any
// goroutine that calls runtime.LockOSThread while running on it keeps it). The
// cost is that changes made from outside after start-up (taskset -p, a new
// cpuset) are not seen here; the kernel still has the last word in [Pin].
func Allowed() ([]int, error) {
	cpus, err := allowedCPUs()
	if err != nil {
		return nil, fmt.Errorf("affinity: allowed cpus: %w", err)
	}
	return slices.Clone(cpus), nil
}

// Pin restricts the calling OS thread to cpus (any of them; the kernel picks).
//
// The caller must have called runtime.LockOSThread first and must keep the
// goroutine locked for as long as the pin should hold. Without the lock the Go
// scheduler moves the goroutine to other threads at will, and the pinned
// thread goes on to run unrelated goroutines. To undo a pin, save [Current]
// before and pass it to Pin after, on the same locked goroutine; or let the
// goroutine exit while still locked, which makes the runtime discard the
// thread and its mask with it.
//
// Pin returns an error for an empty list, a negative CPU, or a CPU that is not
// in [Allowed] (the message names the CPU and the allowed set), and an error
// from sched_setaffinity if the kernel refuses the mask. On platforms without
// thread affinity it returns an error wrapping errors.ErrUnsupported.
func Pin(cpus ...int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("affinity: pin: empty cpu list")
	}
	for _, c := range cpus {
		if c < 0 {
			return fmt.Errorf("affinity: pin: negative cpu %d", c)
		}
	}
	allowed, err := allowedCPUs()
	if err != nil {
		return fmt.Errorf("affinity: pin: %w", err)
	}
	for _, c := range cpus {
		if _, ok := slices.BinarySearch(allowed, c); !ok {
			return fmt.Errorf("affinity: pin: cpu %d is not allowed (allowed cpus %s)", c, formatCPUList(allowed))
		}
	}
	if err := setThreadCPUs(cpus); err != nil {
		return fmt.Errorf("affinity: pin %s: %w", formatCPUList(sortedSet(cpus)), err)
	}
	return nil
}

// sortedSet returns a sorted copy of cpus without duplicates.
func sortedSet(cpus []int) []int {
	s := slices.Clone(cpus)
	slices.Sort(s)
	return slices.Compact(s)
}

// Current returns the affinity mask of the calling OS thread, sorted. Like
// [Pin], it only means something on a goroutine locked to its thread. On
// platforms without thread affinity it returns an error wrapping
// errors.ErrUnsupported.
func Current() ([]int, error) {
	cpus, err := threadCPUs()
	if err != nil {
		return nil, fmt.Errorf("affinity: current cpus: %w", err)
	}
	return cpus, nil
}
