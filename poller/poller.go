package poller

import (
	"errors"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/cpu"
)

// Loop is one event loop, owned by one goroutine (normally locked to its OS
// thread by the caller). Owner-only methods: Add, Modify, Remove, AfterFunc,
// Every, Timer.Stop, Poll, Wait, Run and Close. Any goroutine: Wake, Stop and
// Stats. The zero value is not usable; call New. A Loop must not be copied.
type Loop struct {
	_ noCopy

	// Owner-only state. The mechanism descriptors in p and w are written by New
	// and Close only; wakers read w (and p on kqueue) in wakeSlow, which Close
	// excludes through writers.
	p        pollState
	w        wakeState
	fds      map[int]*fdEntry
	ready    []*fdEntry // entries with pending events, filled by pollWait
	timers   timerHeap
	timerSeq uint64    // next Timer.seq; orders timers with equal deadlines
	epoch    time.Time // origin of the loop's monotonic clock (see now)
	inside   bool      // a dispatch is running: Poll, Wait and Run must not re-enter
	closed   bool

	// state is the sleep handshake (see wake.go). The owner stores
	// stateSleeping before it blocks and stateAwake after; wakers load it on
	// every Wake and CAS it from stateSleeping to stateWoken. It is the only
	// field wakers touch on their fast path, so it gets cache lines of its own
	// and the owner's other writes do not evict it from the wakers' caches.
	_       cpu.CacheLinePad
	state   atomic.Int32
	writers atomic.Int32 // wakers inside wakeSlow; Close waits for zero
	_       cpu.CacheLinePad

	stop    atomic.Bool   // set by Stop (any goroutine), cleared by Run on return
	sleeps  atomic.Uint64 // written by the owner, read by Stats
	wakeups atomic.Uint64 // written by wakers, read by Stats
}

// noCopy makes go vet's copylocks check report copies of a Loop.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Stats counts the loop's sleeps and the wakeups they cost.
type Stats struct {
	Sleeps  uint64 // blocking waits entered (epoll_pwait or kevent with a non-zero timeout)
	Wakeups uint64 // writes to the wake descriptor performed by Wake and Stop
}

// errClosed is returned by owner methods called after Close. It matches
// os.ErrClosed under errors.Is.
var errClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string        { return "poller: loop is closed" }
func (closedError) Is(target error) bool { return target == os.ErrClosed }

// New opens a loop: its epoll or kqueue descriptor and its wake mechanism. It
// returns an error matching errors.ErrUnsupported on platforms with neither.
func New() (*Loop, error) {
	l := &Loop{fds: make(map[int]*fdEntry), epoch: time.Now()}
	if err := l.openPoller(); err != nil {
		return nil, err
	}
	if err := l.openWaker(); err != nil {
		_ = l.closePoller()
		return nil, err
	}
	return l, nil
}

// Close releases every descriptor the loop opened (the epoll or kqueue
// descriptor and the eventfd or pipe), not the descriptors registered with Add,
// and drops every registration and pending timer. It is idempotent. Wake and
// Stop are harmless afterwards; the methods with an error result return an
// error matching os.ErrClosed (Wait once it would sleep: a condition that
// already holds still returns nil, and a context already done its error), and
// AfterFunc and Every return a timer that never runs.
func (l *Loop) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	// After this store no waker can start a write (its CAS from stateSleeping
	// fails); waiting for writers to drain covers a waker that won its CAS
	// before, so no write ever lands on a descriptor number the process may
	// already have reused. The window is a few instructions, so yielding is
	// enough.
	l.state.Store(stateClosed)
	for l.writers.Load() != 0 {
		runtime.Gosched()
	}
	err := errors.Join(l.closeWaker(), l.closePoller())
	for _, e := range l.fds {
		e.removed = true
	}
	clear(l.fds)
	for _, t := range l.timers {
		t.index = -1
	}
	clear(l.timers)
	l.timers = l.timers[:0]
	return err
}

// Stats returns the loop's counters. Any goroutine may call it; the two
// counters are read separately and need not be a consistent pair.
func (l *Loop) Stats() Stats {
	return Stats{Sleeps: l.sleeps.Load(), Wakeups: l.wakeups.Load()}
}

// now reads the loop's monotonic clock in nanoseconds. time.Since uses the
// monotonic reading carried by epoch, so wall-clock steps do not move timers.
func (l *Loop) now() int64 {
	return int64(time.Since(l.epoch))
}

// Supported reports whether this platform has an event loop (epoll or kqueue). Where it
// does not, New fails with errors.ErrUnsupported.
func Supported() bool { return supported }
