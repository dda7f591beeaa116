//go:build !linux

package affinity

import (
	"errors"
	"fmt"
	"runtime"
)

// Thread affinity is Linux-only here. FreeBSD's cpuset_setaffinity and macOS's
// thread_policy_set (a hint the scheduler may ignore, and absent on Apple
// silicon) were considered and left out: x/sys wraps neither (FreeBSD gets
// only the raw syscall numbers), the macOS call is advice rather than a
// placement, and a pin that silently does nothing would be worse than a clear
// ErrUnsupported.
var errNoAffinity = fmt.Errorf("no thread affinity on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func onlineCPUs() ([]int, error) {
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus, nil
}

func allowedCPUs() ([]int, error) { return nil, errNoAffinity }

func threadCPUs() ([]int, error) { return nil, errNoAffinity }

func setThreadCPUs([]int) error { return errNoAffinity }
