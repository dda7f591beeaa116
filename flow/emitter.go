package flow

import (
	"context"

	"github.com/loopyring/loopyring/ring"
)

// reserveAhead is how many slots an emitter claims at a time when the ring has room (at
// most a quarter of the ring).
const reserveAhead = 64

// An Emitter publishes a stage's output into the stage's own ring. It is handed to Expand
// and batch functions and to sources; it is valid only on the stage's goroutine, during the
// call it was handed to (sources: for the stage's life).
//
// It claims slots ahead in runs (one claim per run rather than per entry),
// writes entries in place, and commits what it has written with one store when the batch
// ends. Slots claimed but never filled are given back with Unclaim before the ring closes,
// so a function that filters, fails or panics never leaves a claimed slot unfilled; claiming
// exactly one slot per entry was rejected for costing a claim per entry.
type Emitter[T any] struct {
	buf  *ring.Buffer[T]
	st   *stage
	lo   int64 // first claimed, uncommitted sequence
	next int64 // the next slot to fill: [lo, next) are filled
	stop int64 // the end of the claims: [next, stop) are claimed, unfilled
	run  int   // slots to claim at a time
}

// Emit publishes v. When the ring is full it first commits what is pending and wakes the
// readers, so they can make room, then waits for a free slot.
func (e *Emitter[T]) Emit(v T) {
	if e.next == e.stop {
		e.reserve()
	}
	*e.buf.At(e.next) = v
	e.next++
}

// Stage returns the stage that owns the emitter.
func (e *Emitter[T]) Stage() *Stage { return &e.st.h }

// reserve runs when every claimed slot is filled: it commits them, so that readers need not
// wait for the end of a long batch or of a source's loop, then claims more slots.
func (e *Emitter[T]) reserve() {
	e.flush()
	if e.st.owed {
		e.st.payLate(monotonic()) // a long batch still wakes its readers within maxDeferredWake
	}
	seq, ok := e.buf.TryClaim(e.run)
	got := e.run
	if !ok {
		// A ring kept nearly full by slower readers: claim what is free rather than one
		// slot, or a backpressured stage would claim (and later commit) one entry at a time.
		got = max(min(e.buf.Cap()-e.buf.Len(), e.run), 1)
		seq, ok = e.buf.TryClaim(got)
		if !ok && got > 1 {
			got = 1
			seq, ok = e.buf.TryClaim(1)
		}
	}
	if !ok {
		seq, got = e.claimSlow(), 1
	}
	e.lo, e.next, e.stop = seq, seq, seq+int64(got) // reserve runs only once every claimed slot is filled, and flush committed them
}

func (e *Emitter[T]) claimSlow() int64 {
	e.flush()
	e.st.payWakes() // the readers must run to make room
	e.st.blocked.Add(1)
	// The ring is the stage's own; only the stage closes it, after its last Emit, so the
	// claim can only end with a free slot.
	seq, err := e.buf.Claim(context.Background(), 1)
	if err != nil {
		panic("flow: claim on a stage's own ring failed: " + err.Error())
	}
	return seq
}

// flush commits every filled slot with one commit. A stage busy with its inputs commits
// quietly and owes its readers the wake (see wait.go); any other commit wakes them at once,
// and a shared source notes whether that woke a reader parked in the Go runtime, to let it
// run before the source sleeps (sourceDone). Claimed, unfilled slots stay reserved.
func (e *Emitter[T]) flush() {
	n := int(e.next - e.lo)
	if n == 0 {
		return
	}
	st := e.st
	switch {
	case st.deferring:
		e.buf.CommitQuiet(e.lo, n)
		st.owe(n)
	case st.src != nil && st.mode == Shared:
		e.buf.CommitQuiet(e.lo, n)
		if e.buf.WakeReaders() {
			st.wokeParked = true
		}
	default:
		e.buf.Commit(e.lo, n)
	}
	st.emitted.Add(uint64(n))
	e.lo = e.next
}

// committed returns the sequence after the last entry the emitter committed: claims are
// contiguous, so every committed entry lies below the first claimed and uncommitted one.
func (e *Emitter[T]) committed() int64 { return e.lo }

// end commits what is filled and gives the rest of the reservation back, before the stage
// closes its ring.
func (e *Emitter[T]) end() {
	e.flush()
	if e.stop > e.next && e.buf.Unclaim(e.next) {
		e.stop = e.next
	}
}
