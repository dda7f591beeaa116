package flow

import (
	"context"

	"github.com/loopyring/loopyring/ring"
)

// An Emitter publishes a stage's output into the stage's own ring. It is handed to Expand
// and batch functions and to sources; it is valid only on the stage's goroutine, during the
// call it was handed to (sources: for the stage's life).
//
// Emit claims one slot at a time, which for a single-publisher ring is a comparison and an
// increment, and commits everything emitted in a batch with one store when the batch ends.
// Claiming slot by slot rather than a whole batch at once means a function that panics or
// filters never leaves a claimed slot unfilled.
type Emitter[T any] struct {
	buf *ring.Buffer[T]
	st  *stage
	lo  int64 // first claimed, uncommitted sequence
	n   int   // claimed, uncommitted slots
}

// Emit publishes v. When the ring is full it first commits what is pending, so readers can
// make room, then waits for a free slot.
func (e *Emitter[T]) Emit(v T) {
	seq, ok := e.buf.TryClaim(1)
	if !ok {
		seq = e.claimSlow()
	}
	if e.n == 0 {
		e.lo = seq
	}
	*e.buf.At(seq) = v
	e.n++
}

// Stage returns the index, within its level, of the stage that owns the emitter.
func (e *Emitter[T]) Stage() int { return e.st.idx }

func (e *Emitter[T]) claimSlow() int64 {
	e.flush()
	e.st.blocked.Add(1)
	// The ring is the stage's own; only the stage closes it, after its last Emit, so the
	// claim can only end with a free slot.
	seq, err := e.buf.Claim(context.Background(), 1)
	if err != nil {
		panic("flow: claim on a stage's own ring failed: " + err.Error())
	}
	return seq
}

// flush commits every pending slot with one commit and wakes the readers that wait on it.
func (e *Emitter[T]) flush() {
	if e.n == 0 {
		return
	}
	e.buf.Commit(e.lo, e.n)
	e.st.out.Add(uint64(e.n))
	e.n = 0
}
