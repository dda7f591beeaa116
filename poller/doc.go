// Package poller runs one event loop per thread: fd readiness (epoll on Linux,
// kqueue on the BSDs and macOS), timers on the monotonic clock, and coalesced
// wakeups that cost no system call when the loop is awake.
//
// A [Loop] is owned by one goroutine, normally locked to its OS thread for its
// whole life. The owner registers descriptors and timers and then drives the
// loop with [Loop.Run], [Loop.Poll] or [Loop.Wait]; callbacks run on the owner
// goroutine, inside those calls. Other goroutines only [Loop.Wake] it,
// [Loop.Stop] it or read its [Loop.Stats].
//
// # Usage
//
//	runtime.LockOSThread()
//	defer runtime.UnlockOSThread()
//	l, err := poller.New()
//	if err != nil {
//		return err // errors.ErrUnsupported where there is neither epoll nor kqueue
//	}
//	defer l.Close()
//	l.Add(fd, poller.Readable, onReadable)
//	l.Every(time.Second, flushStats)
//	return l.Run(ctx) // until l.Stop() from anywhere, or ctx is done
//
// A consumer that sleeps until some shared condition holds uses Wait, which is
// the waiting interface of the ring package:
//
//	err := l.Wait(ctx, func() bool { return cursor.Load() >= want })
//
// and the producer that makes the condition true calls l.Wake afterwards.
//
// # Readiness
//
// Readiness is level-triggered on every platform: a descriptor that is still
// readable (or writable) is reported again by the next Poll, so a callback need
// not drain it. [Hangup] means the peer closed (EPOLLHUP or EPOLLRDHUP; EV_EOF on
// kqueue) and comes with [Readable] when Readable was asked for, because a read
// would return end of file without blocking. [Error] means a pending error on
// the descriptor (EPOLLERR; EV_ERROR, or EV_EOF with an error code, on kqueue).
// Hangup and Error need not be asked for, but a descriptor registered with no
// interest at all reports nothing, on both mechanisms alike. Readable and
// Writable arriving together are delivered in one callback.
//
// # Concurrency
//
// Add, Modify, Remove, AfterFunc, Every, Timer.Stop, Poll, Wait, Run and Close
// belong to the owner goroutine; ownership may move to another goroutine only
// through a happens-before edge (a channel, a WaitGroup). Wake, Stop and Stats
// may be called from any goroutine at any time, also after Close.
//
// Wake is coalesced: it writes to the loop's wake descriptor only when the loop
// has announced that it is going to sleep and no other Wake has written since.
// Waking an awake loop is one atomic load. In exchange a Wake carries no message
// and is not remembered: it ends a sleep, so the state that matters must be
// published before Wake is called (see Wait). Wait re-checks its condition after
// announcing sleep and before blocking, so a producer that stores its data and
// then calls Wake never leaves a Wait asleep: the producer's store is
// sequentially consistent with the waiter's load (sync/atomic), and either the
// waiter sees the data or the producer sees the sleeping loop and writes.
//
// Loops may wake spuriously (a wake written just after the loop had woken for
// another reason is drained by the next sleep); Wait and Run absorb this, and
// Poll may then return having dispatched nothing.
//
// The zero Loop is not usable; call New. A Loop must not be copied.
package poller
