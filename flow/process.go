package flow

import (
	"fmt"

	"github.com/loopyring/loopyring/ring"
)

// processImpl is the typed behaviour of a level that reads In and publishes Out: every
// per-entry function form (map, filter, expand, and their error variants) is normalised to
// each, so the stage loop is written once. batch is set instead for batch functions, and
// stateful instead of both for Stateful levels, whose functions are made per stage.
type processImpl[In, Out any] struct {
	key      func(In) uint64
	part     func(In) int
	each     func(v *In, e *Emitter[Out]) error
	mapFn    func(In) Out // Then's function, which the port calls directly (see mapPort)
	batch    func(b *Batch[In], e *Emitter[Out]) error
	stateful func(st *stage, em *Emitter[Out]) procFuncs[In, Out]
	per      []procStage[In, Out] // per stage, made by bind
}

// procFuncs are the functions one stage of a processing level runs: each, or batch.
type procFuncs[In, Out any] struct {
	each  func(v *In, e *Emitter[Out]) error
	batch func(b *Batch[In], e *Emitter[Out]) error
}

type procStage[In, Out any] struct {
	em *Emitter[Out]
	procFuncs[In, Out]
}

func (p *processImpl[In, Out]) roles() roles {
	return roles{newRing: newRing[Out], bind: p.bind, port: p.port}
}

func (p *processImpl[In, Out]) bind(st *stage) outbox {
	if p.per == nil {
		p.per = make([]procStage[In, Out], st.lv.n)
	}
	em := newEmitter[Out](st)
	fs := procFuncs[In, Out]{each: p.each, batch: p.batch}
	if p.stateful != nil {
		fs = p.stateful(st, em)
	}
	p.per[st.idx] = procStage[In, Out]{em: em, procFuncs: fs}
	return em
}

func (p *processImpl[In, Out]) port(st *stage, src ringHandle) (func(lo, hi int64), bool, error) {
	buf, err := typedRing[In](src)
	if err != nil {
		return nil, false, err
	}
	ps := p.per[st.idx]
	em := ps.em
	sel := newSelector(st, p.key, p.part)
	if ps.batch != nil {
		fn := ps.batch
		run := sel.batchPort(st, buf, func(b *Batch[In]) error { return fn(b, em) })
		return func(lo, hi int64) {
			run(lo, hi)
			em.flush()
		}, true, nil
	}
	if p.mapFn != nil && p.stateful == nil {
		return mapPort(st, sel, buf, em, p.mapFn), false, nil
	}
	return eachPort(st, sel, buf, em, ps.each), false, nil
}

// eachPort is the port of the other per-entry levels (Filter, ThenErr, Expand, ExpandErr,
// Stateful): its loop calls the level's normalised function directly, which calls the
// user's, two calls per entry (the selector's loop added a third and a closure for the
// failure report a fourth).
func eachPort[In, Out any](st *stage, sel selector[In], buf *ring.Buffer[In], em *Emitter[Out], each func(v *In, e *Emitter[Out]) error) func(lo, hi int64) {
	if sel.keyed() {
		return func(lo, hi int64) {
			for seq := sel.owned(buf, lo, hi); seq < hi; seq = sel.owned(buf, seq+1, hi) {
				st.taken++
				if err := each(buf.At(seq), em); err != nil {
					st.fail(seq, err, nil, nil)
				}
			}
			em.flush()
		}
	}
	return func(lo, hi int64) {
		seq, step := sel.span(lo)
		for ; seq < hi; seq += step {
			st.cur = seq
			st.taken++
			if err := each(buf.At(seq), em); err != nil {
				st.fail(seq, err, nil, nil)
			}
		}
		em.flush()
	}
}

// mapPort is the port of a Then level: it writes fn's result for each entry of its share
// straight into the next claimed slot of the stage's ring. The general port passes each
// entry through the selector's loop, a closure for the failure report and the level kind's
// closure before the user's function, and copies the result through Emit; here the loop
// calls the user's function and nothing else per entry (BenchmarkChain and loopybench's seed
// row have the figures in the README). Emit's bookkeeping is written out: the stage's
// failure handling relies on it as it does on Emit's, since a panicking fn leaves its slot
// claimed and unfilled (given back when the stage ends) and everything before it filled.
func mapPort[In, Out any](st *stage, sel selector[In], buf *ring.Buffer[In], em *Emitter[Out], fn func(In) Out) func(lo, hi int64) {
	out := em.buf
	if sel.keyed() {
		return func(lo, hi int64) {
			for seq := sel.owned(buf, lo, hi); seq < hi; seq = sel.owned(buf, seq+1, hi) {
				if em.next == em.stop {
					em.reserve()
				}
				st.taken++
				*out.At(em.next) = fn(*buf.At(seq))
				em.next++
			}
			em.flush()
		}
	}
	return func(lo, hi int64) {
		seq, step := sel.span(lo)
		for seq < hi {
			if em.next == em.stop {
				em.reserve()
			}
			for ; seq < hi && em.next < em.stop; seq += step {
				st.cur = seq
				st.taken++
				*out.At(em.next) = fn(*buf.At(seq))
				em.next++
			}
		}
		em.flush()
	}
}

func newRing[T any](capacity int, multi bool, pw ring.Waiter) (ringHandle, error) {
	r, err := ring.New[T](capacity, ringOptions(multi, pw)...)
	if err != nil {
		return nil, err // not a nil *Buffer in a non-nil interface
	}
	return r, nil
}

func ringOptions(multi bool, pw ring.Waiter) []ring.Option {
	var opts []ring.Option
	if multi {
		// A stage waits in a Parker or an event loop, never in a PhasedWaiter, so
		// commits are fenced whatever the option says; saying it lets the ring put
		// each availability mark beside its entry (see ring.Fenced).
		opts = append(opts, ring.MultiPublisher(), ring.Fenced())
	}
	if pw != nil {
		opts = append(opts, ring.PublisherWaiter(pw))
	}
	return opts
}

func typedRing[T any](h ringHandle) (*ring.Buffer[T], error) {
	buf, ok := h.(*ring.Buffer[T])
	if !ok {
		var zero T
		return nil, fmt.Errorf("ring carries %T, not %T", h, zero)
	}
	return buf, nil
}

func newEmitter[T any](st *stage) *Emitter[T] {
	buf := st.ring.(*ring.Buffer[T])
	return &Emitter[T]{buf: buf, st: st, run: max(min(reserveAhead, buf.Cap()/4), 1)}
}

func (s *Stream[T]) process(n int, opts []Option, r roles, nilFn bool) *level {
	if nilFn {
		opts = invalid(opts, "nil function for a level reading %T", *new(T))
	}
	return s.attach(kindProcess, n, opts, r)
}

// Then adds a level of n stages that maps every entry it receives to one output.
func (s *Stream[T]) Then[Out any](n int, fn func(T) Out, opts ...Option) *Stream[Out] {
	p := &processImpl[T, Out]{key: s.key, part: s.part, mapFn: fn}
	return newStream[Out](s.process(n, opts, p.roles(), fn == nil))
}

// ThenErr is Then for a function that can fail; a failed entry produces no output and is
// handled by the level's error policy.
func (s *Stream[T]) ThenErr[Out any](n int, fn func(T) (Out, error), opts ...Option) *Stream[Out] {
	p := &processImpl[T, Out]{key: s.key, part: s.part, each: func(v *T, e *Emitter[Out]) error {
		out, err := fn(*v)
		if err != nil {
			return err
		}
		e.Emit(out)
		return nil
	}}
	return newStream[Out](s.process(n, opts, p.roles(), fn == nil))
}

// Filter adds a filter-map level: it maps each entry to zero or one output, and fn's second
// result says whether to publish the first. The output type may differ from the input's, so
// one level can both parse and drop what does not parse; a plain filter returns its input.
func (s *Stream[T]) Filter[Out any](n int, fn func(T) (Out, bool), opts ...Option) *Stream[Out] {
	p := &processImpl[T, Out]{key: s.key, part: s.part, each: func(v *T, e *Emitter[Out]) error {
		if out, ok := fn(*v); ok {
			e.Emit(out)
		}
		return nil
	}}
	return newStream[Out](s.process(n, opts, p.roles(), fn == nil))
}

// Expand adds a level that maps each entry to any number of outputs, published through the
// emitter.
func (s *Stream[T]) Expand[Out any](n int, fn func(T, *Emitter[Out]), opts ...Option) *Stream[Out] {
	p := &processImpl[T, Out]{key: s.key, part: s.part, each: func(v *T, e *Emitter[Out]) error {
		fn(*v, e)
		return nil
	}}
	return newStream[Out](s.process(n, opts, p.roles(), fn == nil))
}

// ExpandErr is Expand for a function that can fail. Outputs emitted before the failure are
// published.
func (s *Stream[T]) ExpandErr[Out any](n int, fn func(T, *Emitter[Out]) error, opts ...Option) *Stream[Out] {
	p := &processImpl[T, Out]{key: s.key, part: s.part, each: func(v *T, e *Emitter[Out]) error {
		return fn(*v, e)
	}}
	return newStream[Out](s.process(n, opts, p.roles(), fn == nil))
}

// ThenBatch adds a level whose function receives each whole batch at once: every entry the
// stage was given from one input ring's available range (up to MaxBatch), read in place.
// An error fails the batch as one unit; outputs emitted before it are published.
func (s *Stream[T]) ThenBatch[Out any](n int, fn func(*Batch[T], *Emitter[Out]) error, opts ...Option) *Stream[Out] {
	p := &processImpl[T, Out]{key: s.key, part: s.part, batch: fn}
	return newStream[Out](s.process(n, opts, p.roles(), fn == nil))
}
