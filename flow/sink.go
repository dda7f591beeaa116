package flow

import "github.com/loopyring/loopyring/ring"

// consumeImpl is the typed behaviour of a level without an output ring: sinks, which take
// their routed share by value, and phases, which take every entry of their rings in place.
type consumeImpl[T any] struct {
	key      func(T) uint64
	part     func(T) int
	fn       func(v *T) error
	direct   func(v *T)                      // Phase's function, which the port calls directly (see consumePort)
	value    func(v T)                       // Sink's, likewise
	batch    func(b *Batch[T]) error         // set instead of fn for batch sinks and phases
	stateful func(st *stage) consumeFuncs[T] // set instead of both for stateful sinks
	per      []consumeFuncs[T]               // per stage, made by prepare (stateful sinks)
}

// consumeFuncs are the functions one stage of a consuming level runs: fn, or batch.
type consumeFuncs[T any] struct {
	fn    func(v *T) error
	batch func(b *Batch[T]) error
}

func (c *consumeImpl[T]) roles() roles {
	r := roles{port: c.port}
	if c.stateful != nil {
		r.prepare = c.prepare
	}
	return r
}

func (c *consumeImpl[T]) prepare(st *stage) {
	if c.per == nil {
		c.per = make([]consumeFuncs[T], st.lv.n)
	}
	c.per[st.idx] = c.stateful(st)
}

func (c *consumeImpl[T]) port(st *stage, src ringHandle) (func(lo, hi int64), bool, error) {
	buf, err := typedRing[T](src)
	if err != nil {
		return nil, false, err
	}
	fs := consumeFuncs[T]{fn: c.fn, batch: c.batch}
	if c.per != nil {
		fs = c.per[st.idx]
	}
	sel := newSelector(st, c.key, c.part)
	if fs.batch != nil {
		return sel.batchPort(st, buf, fs.batch), true, nil
	}
	if c.direct != nil && c.per == nil {
		return consumePort(st, sel, buf, c.direct), false, nil
	}
	if c.value != nil && c.per == nil {
		return valuePort(st, sel, buf, c.value), false, nil
	}
	return errPort(st, sel, buf, fs.fn), false, nil
}

// errPort is the port of the other consuming levels (SinkErr, PhaseErr, StatefulSink): as
// eachPort is for processing levels, a loop that calls the level's function directly.
func errPort[T any](st *stage, sel selector[T], buf *ring.Buffer[T], fn func(*T) error) func(lo, hi int64) {
	if sel.keyed() {
		return func(lo, hi int64) {
			for seq := sel.owned(buf, lo, hi); seq < hi; seq = sel.owned(buf, seq+1, hi) {
				st.taken++
				if err := fn(buf.At(seq)); err != nil {
					st.fail(seq, err, nil, nil)
				}
			}
		}
	}
	return func(lo, hi int64) {
		seq, step := sel.span(lo)
		for ; seq < hi; seq += step {
			st.cur = seq
			st.taken++
			if err := fn(buf.At(seq)); err != nil {
				st.fail(seq, err, nil, nil)
			}
		}
	}
}

// consumePort is the port of a Phase level, and valuePort of a Sink: the loop over the
// stage's share calls the level's function and nothing else per entry (see mapPort). They
// differ in how the entry is handed over, and in that a phase takes every entry of its rings
// (Start refuses key and partition routing for one), so consumePort has no keyed loop.
func consumePort[T any](st *stage, sel selector[T], buf *ring.Buffer[T], fn func(*T)) func(lo, hi int64) {
	return func(lo, hi int64) {
		seq, step := sel.span(lo)
		for ; seq < hi; seq += step {
			st.cur = seq
			st.taken++
			fn(buf.At(seq))
		}
	}
}

func valuePort[T any](st *stage, sel selector[T], buf *ring.Buffer[T], fn func(T)) func(lo, hi int64) {
	if sel.keyed() {
		return func(lo, hi int64) {
			for seq := sel.owned(buf, lo, hi); seq < hi; seq = sel.owned(buf, seq+1, hi) {
				st.taken++
				fn(*buf.At(seq))
			}
		}
	}
	return func(lo, hi int64) {
		seq, step := sel.span(lo)
		for ; seq < hi; seq += step {
			st.cur = seq
			st.taken++
			fn(*buf.At(seq))
		}
	}
}

// Sink ends a chain with a level of n stages that consumes every entry it receives.
func (s *Stream[T]) Sink(n int, fn func(T), opts ...Option) {
	if fn == nil {
		opts = invalid(opts, "nil sink function for %T", *new(T))
	}
	s.attach(kindSink, n, opts, (&consumeImpl[T]{key: s.key, part: s.part, value: fn}).roles())
}

// SinkErr is Sink for a function that can fail; failures follow the level's error policy.
func (s *Stream[T]) SinkErr(n int, fn func(T) error, opts ...Option) {
	if fn == nil {
		opts = invalid(opts, "nil sink function for %T", *new(T))
	}
	s.attach(kindSink, n, opts, (&consumeImpl[T]{key: s.key, part: s.part, fn: func(v *T) error { return fn(*v) }}).roles())
}

// SinkBatch ends a chain with a level whose function receives each whole batch at once, as
// ThenBatch does; an error fails the batch as one unit.
func (s *Stream[T]) SinkBatch(n int, fn func(*Batch[T]) error, opts ...Option) {
	if fn == nil {
		opts = invalid(opts, "nil sink function for %T", *new(T))
	}
	s.attach(kindSink, n, opts, (&consumeImpl[T]{key: s.key, part: s.part, batch: fn}).roles())
}

// Phase adds a handler that runs over the same ring entries as the stream, in place, after
// the stream's own phases have released each entry and before any level attached to the
// returned stream sees it. No entry is copied. Each of the upstream level's rings is handled
// by one of the phase's n stages (ring j by stage j mod n), so a phase sees every entry
// exactly once, in publication order per ring.
//
// Phases attached to the same stream run in parallel; Merge of their streams waits for all
// of them, which closes a diamond. Phases that run in parallel may read an entry at the same
// time; a phase may write to an entry only where no parallel phase reads what it writes.
func (s *Stream[T]) Phase(n int, fn func(*T), opts ...Option) *Stream[T] {
	if fn == nil {
		opts = invalid(opts, "nil phase function for %T", *new(T))
	}
	return s.phase(n, opts, &consumeImpl[T]{direct: fn})
}

// PhaseErr is Phase for a function that can fail; failures follow the level's error policy
// and the entry still moves on to later phases.
func (s *Stream[T]) PhaseErr(n int, fn func(*T) error, opts ...Option) *Stream[T] {
	if fn == nil {
		opts = invalid(opts, "nil phase function for %T", *new(T))
	}
	return s.phase(n, opts, &consumeImpl[T]{fn: fn})
}

// PhaseBatch is Phase for a function that takes each whole batch of ring entries in place:
// every entry its stage received from one ring in one batch (up to MaxBatch), in publication
// order, so that work with a fixed cost per call (a write and an fsync of a journal) is paid
// once per batch. An error fails the batch as one unit under the level's error policy, and
// its entries still move on to later phases.
func (s *Stream[T]) PhaseBatch(n int, fn func(*Batch[T]) error, opts ...Option) *Stream[T] {
	if fn == nil {
		opts = invalid(opts, "nil phase function for %T", *new(T))
	}
	return s.phase(n, opts, &consumeImpl[T]{batch: fn})
}

func (s *Stream[T]) phase(n int, opts []Option, c *consumeImpl[T]) *Stream[T] {
	lv := s.attach(kindPhase, n, opts, c.roles())
	out := &Stream[T]{g: s.g}
	for _, e := range s.edges {
		// The phase's stream is the same rings, gated after this phase alone: the phases
		// it ran after are already behind it.
		out.edges = append(out.edges, edge{from: e.from, after: []*level{lv}})
	}
	return out
}
