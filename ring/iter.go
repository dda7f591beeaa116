package ring

import (
	"context"
	"errors"
	"iter"
)

// A Span is a batch of sequences [Lo, Hi) handed to a reader.
type Span struct {
	Lo, Hi int64
}

// Len returns the number of sequences in the span.
func (s Span) Len() int { return int(s.Hi - s.Lo) }

// Batches returns an iterator over the reader's batches, the range form of the Wait and
// Release loop:
//
//	for span, err := range r.Batches(ctx) {
//		if err != nil {
//			return err // ctx ended
//		}
//		for seq := span.Lo; seq < span.Hi; seq++ {
//			use(buf.At(seq))
//		}
//	}
//
// Each span is released when the loop body returns for it, or breaks out of the loop: the
// body must be done with its entries by then. The loop ends without an error once the ring
// is closed and every committed entry has been handed out; any other error of Wait (the
// context's) is yielded once, with an empty span, and ends the loop. The iterator belongs to
// the reader's goroutine, like Wait.
func (r *Reader) Batches(ctx context.Context) iter.Seq2[Span, error] {
	return func(yield func(Span, error) bool) {
		for {
			lo, hi, err := r.Wait(ctx)
			if errors.Is(err, ErrClosed) {
				return
			}
			if err != nil {
				yield(Span{}, err)
				return
			}
			more := yield(Span{lo, hi}, nil)
			r.Release(hi)
			if !more {
				return
			}
		}
	}
}
