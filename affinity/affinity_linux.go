package affinity

import (
	"errors"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// startMask is the main thread's affinity mask, read while the package is
// initialised; see Allowed for why. Package initialisation runs on the main
// goroutine, which the runtime keeps locked to the main thread until init is
// done, and no code that imports this package can have pinned anything yet.
// Written once by init, read only afterwards: no synchronisation is needed.
var startMask struct {
	cpus []int
	err  error
}

func init() {
	startMask.cpus, startMask.err = threadCPUs()
}

func onlineCPUs() ([]int, error) {
	return readCPUList(os.DirFS(sysCPUDir), "online")
}

func allowedCPUs() ([]int, error) { return startMask.cpus, startMask.err }

// threadCPUs reads the calling thread's mask. The kernel refuses (EINVAL) a
// buffer smaller than its own mask, whose size depends on how it was built, so
// the buffer starts at glibc's 1024 CPUs and doubles until it fits. The fixed
// unix.CPUSet was rejected because it stops at 1024.
func threadCPUs() ([]int, error) {
	for n := 1024; ; n *= 2 {
		set := unix.NewCPUSet(n)
		err := unix.SchedGetaffinityDynamic(0, set)
		if errors.Is(err, unix.EINVAL) && n < maxCPU {
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("sched_getaffinity", err)
		}
		cpus := make([]int, 0, set.Count())
		for c := 0; c < n && len(cpus) < cap(cpus); c++ {
			if set.IsSet(c) {
				cpus = append(cpus, c)
			}
		}
		return cpus, nil
	}
}

// setThreadCPUs sets the calling thread's mask. The buffer only needs to reach
// the highest CPU named: the kernel clears whatever lies beyond it.
func setThreadCPUs(cpus []int) error {
	set := unix.NewCPUSet(slices.Max(cpus) + 1)
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinityDynamic(0, set); err != nil {
		return os.NewSyscallError("sched_setaffinity", err)
	}
	return nil
}
