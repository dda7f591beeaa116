package flow

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/loopyring/loopyring/ring"
)

// Publisher is the typed handle through which goroutines outside the graph publish into an
// input level: self attachment. Any number of goroutines may publish at once. It is also
// the input level's Stream, so levels attach to it directly.
type Publisher[T any] struct {
	*Stream[T]
	lv  *level
	buf *atomic.Pointer[ring.Buffer[T]] // set by Start once the ring exists
}

// Input adds an input level: one multi-publisher ring that external goroutines write into
// through the returned Publisher. Capacity and Name apply.
func Input[T any](g *Graph, opts ...Option) *Publisher[T] {
	buf := new(atomic.Pointer[ring.Buffer[T]])
	var built *ring.Buffer[T] // made by Start, not yet visible to publishers
	lv := g.addLevel(kindInput, 1, opts, nil, routeShared, roles{
		newRing: func(capacity int, multi bool, pw ring.Waiter) (ringHandle, error) {
			r, err := ring.New[T](capacity, ringOptions(multi, pw)...)
			if err != nil {
				return nil, err
			}
			built = r
			return r, nil
		},
		expose: func() { buf.Store(built) },
	})
	return &Publisher[T]{Stream: newStream[T](lv), lv: lv, buf: buf}
}

// buffer returns the input ring, or the error a publish gets before Start or after a
// failed one.
func (p *Publisher[T]) buffer() (*ring.Buffer[T], error) {
	if b := p.buf.Load(); b != nil {
		return b, nil // closed by Stop: claims then fail with ErrStopped
	}
	if p.lv.g.state.Load() == stateDone {
		return nil, ErrStopped // Start failed before building this ring
	}
	return nil, ErrNotStarted
}

// Publish writes v into the graph, waiting while the input ring is full. It returns
// ErrStopped once a stop has closed this input (a stop closes the inputs one after another,
// so a publish racing it may still be accepted, and is then delivered), ctx.Err() if ctx
// ends while it waits for room (a publish that finds room does not look at ctx), and
// ErrNotStarted before Start. A nil error means the entry is committed and
// will be delivered.
func (p *Publisher[T]) Publish(ctx context.Context, v T) error {
	buf, err := p.buffer()
	if err != nil {
		return err
	}
	seq, err := buf.Claim(ctx, 1)
	if err != nil {
		return publishErr(err)
	}
	*buf.At(seq) = v
	buf.Commit(seq, 1)
	return nil
}

// TryPublish is Publish without waiting: ErrFull if the ring has no free slot.
func (p *Publisher[T]) TryPublish(v T) error {
	buf, err := p.buffer()
	if err != nil {
		return err
	}
	seq, ok := buf.TryClaim(1)
	if !ok {
		if buf.Closed() {
			return ErrStopped
		}
		return ErrFull
	}
	*buf.At(seq) = v
	buf.Commit(seq, 1)
	return nil
}

// PublishBatch writes every entry of vs, claiming and committing in runs as large as the
// ring allows. It returns how many entries were committed: on an error, vs[:n] are
// delivered and vs[n:] are not. Its errors are Publish's; an empty vs publishes nothing but
// still gets them (ErrStopped once this input is closed).
func (p *Publisher[T]) PublishBatch(ctx context.Context, vs []T) (n int, err error) {
	buf, err := p.buffer()
	if err != nil {
		return 0, err
	}
	if len(vs) == 0 && buf.Closed() {
		return 0, ErrStopped
	}
	for n < len(vs) {
		k := min(len(vs)-n, buf.Cap())
		lo, err := buf.Claim(ctx, k)
		if err != nil {
			return n, publishErr(err)
		}
		for i := range k {
			*buf.At(lo + int64(i)) = vs[n+i]
		}
		buf.Commit(lo, k)
		n += k
	}
	return n, nil
}

func publishErr(err error) error {
	if errors.Is(err, ring.ErrClosed) {
		return ErrStopped
	}
	return err
}

// Completed returns how many of the entries committed into the input are finished, in
// commit order, as SourceStage.Completed counts them: the first Completed() entries to claim
// their slots are done with, down to the sinks. With one publishing goroutine that is the
// order it published in. It returns 0 before Start.
func (p *Publisher[T]) Completed() int64 {
	if p.buf.Load() == nil {
		return 0
	}
	return p.lv.g.finished(p.lv, 0)
}
