package ring

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Waiter blocks a goroutine until a condition holds. The ring calls Wake after
// each store that can make a condition true (commit, release, close), and the
// Waiter owns the handshake that keeps such a Wake from being lost.
//
// A poller's event loop satisfies Waiter structurally, which is how a stage
// sleeps in its loop while waiting for a ring; ring does not import it.
type Waiter interface {
	// Wait returns nil once ready() reports true, or ctx.Err() once ctx is
	// done. It must announce that it is about to sleep, then re-check ready(),
	// so that a Wake that races with going to sleep is never lost. ready is
	// called only from the waiting goroutine.
	Wait(ctx context.Context, ready func() bool) error
	// Wake makes a current or imminent Wait re-check ready. Safe from any
	// goroutine. Costs no system call and no allocation when nobody is waiting
	// (a load of a flag).
	Wake()
}

// Default phases of a zero PhasedWaiter. Spinning pays only while the other
// side runs on another core, and a spinning poller keeps pulling the line the
// publisher is about to write, which slows the publisher down on every
// entry. runtime.Gosched between polls is a natural backoff (it returns at
// once when nothing else is runnable) and gives the core away when something
// is. On machines with fewer than 4 CPUs there is no pure spin at all: there a
// spinning reader mostly holds a core its publisher needs, and the SPSC, MPSC
// and multicast benchmarks all ran faster without one; larger machines keep a
// short spin for latency.
var (
	defaultSpin  = pick(runtime.NumCPU() < 4, 0, 32)
	defaultYield = 64
)

func pick(cond bool, a, b int) int {
	if cond {
		return a
	}
	return b
}

// PhasedWaiter is the default [Waiter]: it polls ready in a bounded spin, then
// polls between runtime.Gosched calls for a while, then parks the goroutine on
// a channel until Wake.
//
// Several goroutines may Wait on one PhasedWaiter at once (publishers blocked
// on a full multi-publisher ring); Wake wakes them all. The zero value is
// usable and uses the default phases. A PhasedWaiter must not be copied after
// first use. Neither Wait nor Wake allocates once the waiter has been used by
// as many concurrent sleepers as it will see.
//
// Where rings publish with light stores (linux/amd64, see the package doc), the
// waiter of a reader without upstreams sleeps at most 50µs at first (or the Go
// runtime's timer resolution, if coarser); if nothing woke it by then, it runs
// membarrier(2) (a system call that interrupts each other CPU then running one
// of the process's threads), checks once more and sleeps until woken. Every
// park then starts and stops a timer, and a sleep longer than the first costs
// one membarrier more.
type PhasedWaiter struct {
	_ noCopy

	spin       int        // polls before the phases
	phases     WaitPhases // set by NewWaiter
	configured bool       // set by a constructor; false selects the defaults

	// fenced: a ring may wake this waiter right after a light store, so park
	// settles before it sleeps for good (see settle). Set by NewReader, before
	// the reader can wait, for readers without upstreams.
	fenced atomic.Bool

	// sleepers is len(sleeping), published for Wake's fast path. Written under
	// mu by sleepers and wakers, loaded without mu by every Wake.
	sleepers atomic.Int32

	mu       sync.Mutex
	sleeping []chan struct{} // one per parked Wait; Wake signals and clears
	free     []chan struct{} // recycled channels, so parking does not allocate
	timers   []*time.Timer   // recycled timers of settle
}

// NewPhasedWaiter returns a waiter that polls spin times, then yields the
// processor up to yield times, before it parks. NewPhasedWaiter(0, 0) parks at
// once, which suits a machine with fewer cores than busy goroutines. It panics
// if spin or yield is negative.
func NewPhasedWaiter(spin, yield int) *PhasedWaiter {
	if spin < 0 || yield < 0 {
		panic("ring: NewPhasedWaiter with negative spin or yield")
	}
	return &PhasedWaiter{spin: spin, phases: WaitPhases{Yield: yield}, configured: true}
}

// NewWaiter returns a PhasedWaiter that runs phases p before it parks. It
// panics if p.Spin or p.Yield is negative.
func NewWaiter(p WaitPhases) *PhasedWaiter {
	p.check()
	return &PhasedWaiter{phases: p, configured: true}
}

// Wait implements [Waiter].
func (w *PhasedWaiter) Wait(ctx context.Context, ready func() bool) error {
	if !w.configured {
		if pollReady(defaultSpin, ready) || (WaitPhases{Yield: defaultYield}).run(ready) {
			return nil
		}
		return w.park(ctx, ready)
	}
	if pollReady(w.spin, ready) || w.phases.run(ready) {
		return nil
	}
	return w.park(ctx, ready)
}

func pollReady(n int, ready func() bool) bool {
	for range n {
		if ready() {
			return true
		}
	}
	return false
}

// park is the blocking phase. The order is the whole point: the sleeper first
// makes itself visible (the sequentially consistent store of sleepers inside
// enlist), then re-reads the condition; a waker first stores the condition
// (commit, release, close), then loads sleepers. Because Go's sync/atomic
// operations are sequentially consistent, at least one side sees the other's
// store: either ready() observes the new state, or Wake observes a sleeper and
// signals its channel. This is Dekker's store→load pattern on both sides.
func (w *PhasedWaiter) park(ctx context.Context, ready func() bool) error {
	for {
		if ready() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ch := w.enlist()
		if ready() {
			w.delist(ch)
			return nil
		}
		if w.fenced.Load() && !w.settle(ctx, ch, ready) {
			w.delist(ch)
			continue // woken, ready, or ctx done: the top of the loop sorts it out
		}
		select {
		case <-ch:
		case <-ctx.Done():
		}
		w.delist(ch)
	}
}

// settleTime bounds a fenced waiter's first sleep; see settle.
const settleTime = 50 * time.Microsecond

// settle is the first part of a fenced waiter's sleep, and reports whether the
// goroutine may now sleep until woken. A commit made with a light store (see
// fence_linux_amd64.go) loads sleepers with its store possibly still in its
// core's store buffer, so the commit can miss this sleeper while the re-check
// before settle missed the commit: Dekker's pattern without its fence on the
// waker's side. A heavyFence before the re-check would close that window, but
// it would put a system call and an interrupt of the other CPUs on every park,
// which made a park-at-once ping-pong several times slower than fenced commits
// do. Instead the first sleep is bounded by settleTime, after which the fence
// runs and the condition is checked once more: a waiter woken sooner pays for
// a timer's start and stop, one that sleeps longer for one membarrier too, and
// a commit missed in that window is late by about settleTime (or the
// runtime's timer resolution), never lost.
func (w *PhasedWaiter) settle(ctx context.Context, ch chan struct{}, ready func() bool) bool {
	t := w.takeTimer()
	defer w.putTimer(t)
	t.Reset(settleTime)
	select {
	case <-ch:
		t.Stop()
		return false
	case <-ctx.Done():
		t.Stop()
		return false
	case <-t.C:
	}
	heavyFence()
	return !ready()
}

// takeTimer returns a stopped timer, recycled if one is free.
func (w *PhasedWaiter) takeTimer() *time.Timer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n := len(w.timers); n > 0 {
		t := w.timers[n-1]
		w.timers[n-1] = nil
		w.timers = w.timers[:n-1]
		return t
	}
	t := time.NewTimer(time.Hour)
	t.Stop()
	return t
}

// putTimer keeps a stopped or fired timer for the next settle. Since Go 1.23
// a timer's channel holds no stale tick after Stop or Reset, so it can be
// reused as it is.
func (w *PhasedWaiter) putTimer(t *time.Timer) {
	w.mu.Lock()
	w.timers = append(w.timers, t)
	w.mu.Unlock()
}

// Wake implements [Waiter]. With nobody parked it is one atomic load, which is
// what keeps Commit and Release cheap in the busy steady state.
func (w *PhasedWaiter) Wake() {
	if w.sleepers.Load() == 0 {
		return
	}
	w.wakeSlow()
}

// parked reports whether a goroutine is parked on the waiter's own channel.
func (w *PhasedWaiter) parked() bool { return w.sleepers.Load() > 0 }

func (w *PhasedWaiter) wakeSlow() {
	w.mu.Lock()
	for i, ch := range w.sleeping {
		// Buffered with room for one: the send never blocks, and a token
		// that arrives after its waiter left is drained by delist.
		select {
		case ch <- struct{}{}:
		default:
		}
		w.sleeping[i] = nil
	}
	w.sleeping = w.sleeping[:0]
	w.sleepers.Store(0)
	w.mu.Unlock()
}

// enlist registers a parking goroutine and returns the channel it sleeps on.
func (w *PhasedWaiter) enlist() chan struct{} {
	w.mu.Lock()
	var ch chan struct{}
	if n := len(w.free); n > 0 {
		ch = w.free[n-1]
		w.free[n-1] = nil
		w.free = w.free[:n-1]
	} else {
		ch = make(chan struct{}, 1)
	}
	w.sleeping = append(w.sleeping, ch)
	w.sleepers.Store(int32(len(w.sleeping)))
	w.mu.Unlock()
	return ch
}

// delist unregisters ch if a Wake has not already done so, empties it and
// keeps it for the next park.
func (w *PhasedWaiter) delist(ch chan struct{}) {
	w.mu.Lock()
	for i, c := range w.sleeping {
		if c == ch {
			last := len(w.sleeping) - 1
			w.sleeping[i] = w.sleeping[last]
			w.sleeping[last] = nil
			w.sleeping = w.sleeping[:last]
			w.sleepers.Store(int32(last))
			break
		}
	}
	select {
	case <-ch:
	default:
	}
	w.free = append(w.free, ch)
	w.mu.Unlock()
}
