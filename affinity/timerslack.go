package affinity

import (
	"fmt"
	"time"
)

// SetTimerSlack sets the timer slack of every thread of the process to d, and so of the
// threads they start later, which inherit it: how late the kernel may end a timed sleep
// in order to serve several timers with one wake-up. The kernel's default suits
// background work. It also stretches the short sleeps of Go's scheduler, such as the
// back-off a thread makes before it takes a goroutine that another thread has just readied
// and may be about to run, and so the latency of a request that hops between goroutines
// on a host with few cores. Lowering it makes timed sleeps end nearer their deadline; a
// thread that sleeps without a deadline, as an idle one does, is not woken any more often.
//
// The slack is a property of each thread, not of the process, so SetTimerSlack writes it
// for every thread it finds, repeating until a pass finds no new one. d must be positive.
// It is Linux-only (Linux 4.6 or later, which lets a process set its threads' slack);
// elsewhere it returns an error wrapping errors.ErrUnsupported. On an error, some threads
// may have the new slack and others the old.
func SetTimerSlack(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("affinity: timer slack %v: must be positive", d)
	}
	return setTimerSlack(d)
}
