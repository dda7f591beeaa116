package flow

import (
	"context"
	"time"

	"github.com/loopyring/loopyring/poller"
	"github.com/loopyring/loopyring/ring"
)

// The stage's side of the one wait layer. ring decides how a waiter spins, yields and
// sleeps (ring.WaitPhases, ring.Parker); flow decides, here and nowhere else, which
// waiter each stage sleeps on, when it may spin, and when a stage pays the wakes it owes
// its readers.
//
// A dedicated stage sleeps in its own event loop, behind the level's spin phase: a wake is
// a write to the loop's wake fd and a kernel thread wake. So does a shared source, whose loop
// is what its fds and timers need, from a goroutine that is not locked: its own waits that
// matter to throughput, for room in its full ring, park in the Go runtime (compile.go). A shared stage parks in the Go
// runtime on a ring.Parker, behind the same phases: a wake readies a goroutine, with no
// system call and no lock, and on one P the woken stage runs as soon as the waker parks.
// Either way the stage's readers, its blocked claims and its idle waits all go through the
// same waiter, so any wake ends any of its sleeps. (A ring.PhasedWaiter, which would let the
// rings commit with light stores, was measured and rejected for shared stages: its lock and
// list, and the timer each of its parks starts to settle, cost the 3-stage pipeline more
// latency than the light stores saved, and throughput was no better.)
//
// Spinning takes a core from a process-wide budget of spare cores (the allowed CPUs less
// the stages of every running graph, see procs.go), as Go's scheduler caps its spinning
// threads: on a host with fewer cores than stages the budget is 0 and nobody spins, since a
// spinner there takes the core its publisher needs.

// A stage that processes its inputs commits its outputs quietly (ring.Buffer.CommitQuiet)
// and owes its readers a wake, which it pays when it goes idle, is about to block on a full
// ring, has committed a quarter ring since it last paid, or ends a batch or claims its next
// run of slots more than maxDeferredWake after the first wake it deferred (which bounds the
// latency a deferral adds). A reader then wakes to a large batch instead of to every commit. Waking on every
// commit was rejected: with more stages than cores each wake is a thread switch (or, shared,
// a goroutine switch), and those switches, not the entries, dominated the seed topology.
// Sources commit with a wake at once: a source may emit slowly from a long-running function,
// and a deferred wake would hold its entries back until it went idle.

// monotonic is the stages' clock for deferred wakes and busy time: the time since the
// package started, from the monotonic clock alone. time.Now reads the wall clock as well,
// and a stage reads the clock once a batch and once a reservation, so that halved read
// showed in profiles of short batches.
func monotonic() time.Duration { return time.Since(started) }

var started = time.Now()

// maxDeferredWake bounds how long a busy stage may keep a reader's wake owed.
const maxDeferredWake = 100 * time.Microsecond

// spinBudget is shared by every stage of every graph in the process.
var spinBudget ring.SpinBudget

// newWaiter gives the stage what it sleeps on for its mode: its loop behind the level's
// spin phase (dedicated, and every source), or a Parker in the Go runtime behind it (a
// shared processing or sink stage). A shared source keeps its loop, since its function and
// callbacks may register fds and timers there; it differs from a dedicated one in its
// goroutine, which is not locked to a thread (see Shared).
func (st *stage) newWaiter() error {
	phases := ring.WaitPhases{Spin: st.lv.opts.spin, Budget: &spinBudget}
	if st.mode == Shared && st.lv.kind != kindSource {
		st.parker = ring.NewParker()
		st.waiter = phases.Before(st.parker)
		return nil
	}
	loop, err := poller.New()
	if err != nil {
		return err
	}
	st.loop = loop
	st.waiter = phases.Before(loop)
	return nil
}

// owe records that n entries were committed without waking the readers.
func (st *stage) owe(n int) {
	if !st.owed {
		st.owed = true
		st.owedAt = monotonic()
	}
	st.sincePaid += n
	if st.sincePaid >= st.payEvery {
		st.payWakes()
	}
}

// payWakes wakes the readers of the stage's ring if a wake is owed, and reports whether
// one of them was parked in the Go runtime.
func (st *stage) payWakes() (parked bool) {
	if !st.owed {
		return false
	}
	st.owed = false
	st.sincePaid = 0
	return st.ring.WakeReaders()
}

// payLate pays the owed wakes if the first was deferred more than maxDeferredWake before now.
func (st *stage) payLate(now time.Duration) {
	if st.owed && now-st.owedAt > maxDeferredWake {
		st.payWakes()
	}
}

// idle is called when no input has work: it pays what the stage owes, then waits until some
// input has work or every input is drained. A shared stage that has just woken a parked
// reader does not spin: on a shared P the reader runs only once this stage parks.
func (st *stage) idle() {
	woke := st.payWakes()
	if st.parker != nil {
		st.sleeps.Add(1)
	}
	if woke && st.parker != nil {
		_ = st.parker.Wait(context.Background(), st.ready) // a background context never ends the wait
		return
	}
	if !st.loopUsed {
		_ = st.waiter.Wait(context.Background(), st.ready)
		return
	}
	// The loop runs user callbacks while it waits: a panic in one is the stage's failure,
	// and what they emitted is committed when the wait ends.
	_ = st.protectCall(func() error { return st.waiter.Wait(context.Background(), st.ready) }, st.runInputs)
	if st.out != nil {
		st.out.flush()
	}
}
