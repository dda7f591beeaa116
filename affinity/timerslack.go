package affinity

import (
	"fmt"
	"time"
)

// SetTimerSlack sets the timer slack of every thread of the process to d: how
// late the kernel may end a timed sleep in order to serve several timers with
// one wake-up. Threads started afterwards copy it from the thread that starts
// them. The kernel's default suits background work; it also stretches the short
// sleeps of Go's scheduler, such as the back-off a thread makes before it takes
// a goroutine that another thread has just readied, and so the latency of a
// request that hops between goroutines on a host with few cores. A lower slack
// makes timed sleeps end nearer their deadline; a thread that sleeps without a
// deadline, as an idle one does, is not woken any more often.
//
// d must be positive: the kernel reads 0 as "back to this thread's default",
// which for a thread started after an earlier call is that call's value, so
// there is no way back to the kernel's own default for every thread.
//
// The slack belongs to each thread. In a program without cgo, SetTimerSlack
// sets it on every thread of the Go runtime at once
// (syscall.AllThreadsSyscall), which needs no privilege. A program with cgo may
// have threads the runtime does not know, so there SetTimerSlack writes each
// thread's /proc entry instead, repeating until a pass finds no new thread; the
// kernel lets a thread write another's only with CAP_SYS_NICE, and
// SetTimerSlack then returns an error matching fs.ErrPermission, having changed
// no thread. In that mode a thread being started during the call may keep the
// old slack.
//
// It is Linux-only; elsewhere it returns an error wrapping
// errors.ErrUnsupported.
func SetTimerSlack(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("affinity: timer slack %v: must be positive", d)
	}
	if uint64(d) > uint64(^uintptr(0)) {
		return fmt.Errorf("affinity: timer slack %v: too large for this platform", d)
	}
	return setTimerSlack(d)
}
