package ring

import (
	"context"
	"sync/atomic"
)

// Parker is a [Waiter] for exactly one goroutine, which parks in the Go runtime on a
// one-slot channel; a Wake that finds it asleep sends it a token. It has no phases of its
// own (run [WaitPhases.Before] it for a spin) and no mutex: while the goroutine is awake a
// Wake is one atomic load, and a wake of a sleeper is one compare-and-swap and one channel
// send, which on a shared processor hands off as a channel does. (A Wait that ends by
// itself just as a waker takes the wake receives that waker's token, so it may wait for
// the send: briefly, and never for anything but that waker.) ready must not panic: a
// panic after the goroutine announced its sleep leaves the Parker marked asleep, and the
// next Wait then wakes once for nothing. It suits a reader or a
// publisher that one goroutine owns, such as a stage of a graph; [PhasedWaiter] is for
// several sleepers at once (publishers blocked on one full ring).
//
// Rings commit to a Parker with fenced stores: it does not settle (see PhasedWaiter), so it
// relies on the waker's store→load order. Measured against a PhasedWaiter that parks at
// once, it cut the latency of a 3-stage pipeline of goroutines (see the README); the
// light commits a PhasedWaiter allows did not make up for the timer each of its parks
// then starts.
//
// The zero value is not usable; use [NewParker]. A Parker must not be copied, and only one
// goroutine at a time may Wait on it.
type Parker struct {
	_ noCopy
	// state is parkAwake or parkAsleep. Written by the waiting goroutine (asleep, before it
	// re-checks its condition) and by whoever takes the wake (asleep → awake: a waker, or
	// the waiter itself when it finds its condition true or its context done); loaded by
	// every Wake.
	state atomic.Int32
	ch    chan struct{} // the wake token; holds at most one
}

const (
	parkAwake int32 = iota
	parkAsleep
)

// NewParker returns a Parker.
func NewParker() *Parker { return &Parker{ch: make(chan struct{}, 1)} }

// Wait implements [Waiter]. The goroutine announces its sleep (a sequentially consistent
// store), then re-checks ready; a waker stores its condition, then loads the state: one of
// them sees the other's store (Dekker's pattern), so no wake is lost. Whoever moves the
// state from asleep to awake owns the token: a waker sends it, and a goroutine that took
// its own wake drains the token of a waker that beat it, so every sleep starts with an
// empty channel.
func (p *Parker) Wait(ctx context.Context, ready func() bool) error {
	for !ready() {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.state.Store(parkAsleep)
		if ready() {
			p.takeWake()
			return nil
		}
		done := ctx.Done()
		if done == nil {
			<-p.ch // a plain receive: cheaper than a select, and the common case
			continue
		}
		select {
		case <-p.ch:
		case <-done:
			p.takeWake()
		}
	}
	return nil
}

// takeWake ends a sleep that no waker ended: it marks the goroutine awake, or, if a waker
// got there first, takes the token that waker sends.
func (p *Parker) takeWake() {
	if !p.state.CompareAndSwap(parkAsleep, parkAwake) {
		<-p.ch
	}
}

// Wake implements [Waiter]. Safe from any goroutine.
func (p *Parker) Wake() {
	if p.state.Load() == parkAsleep && p.state.CompareAndSwap(parkAsleep, parkAwake) {
		p.ch <- struct{}{}
	}
}

// parked reports whether the goroutine is asleep on the Parker.
func (p *Parker) parked() bool { return p.state.Load() == parkAsleep }
