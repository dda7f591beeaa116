package flow

import "errors"

// Stateful describes a processing level whose every stage owns a value of type S, its state:
// made by Init when the graph starts, handed to Each (or Batch) with every entry, and handed
// to End after the stage's last input, where End may still emit (to flush what the stage
// aggregated). The state is touched only by its stage's goroutine, so it needs no lock. S is
// handed over by value: make it a pointer, a map or another reference type when the calls
// must change it.
//
// Exactly one of Each and Batch must be set; Init and End are optional (without Init the
// state starts as S's zero value).
type Stateful[In, S, Out any] struct {
	// Init makes the stage's state, on the stage's goroutine, before Start returns and before
	// the stage sees any entry. An error (or a panic) fails Start, naming the level and stage.
	// What it emits is committed when it returns, ahead of every entry the stage emits later
	// (and delivered while the graph drains if Init fails).
	// The emitter it gets stays valid for the stage's life on the stage's goroutine, so that
	// the callbacks of fds and timers Init registers on the stage's loop can publish. While
	// the stage's ring is full, an Emit waits for room, in a callback too, and the loop's
	// callbacks wait with it (TestCallbackTimerEmitsIntoAFullRing).
	Init func(st *Stage, e *Emitter[Out]) (S, error)
	// Each processes one entry; an error is handled by the level's error policy.
	Each func(s S, v In, e *Emitter[Out]) error
	// Batch processes each whole batch, as ThenBatch does; set instead of Each.
	Batch func(s S, b *Batch[In], e *Emitter[Out]) error
	// End runs once per stage after its inputs are closed and drained, before its ring
	// closes: what it emits is delivered. An error is handled by the level's error policy.
	End func(s S, e *Emitter[Out]) error
}

// StatefulSink is Stateful for a sink level: a stage's state lives from Init to End, and End
// runs after the stage's last entry (to write out what it aggregated).
type StatefulSink[In, S any] struct {
	// Init makes the stage's state, as Stateful's does.
	Init  func(st *Stage) (S, error)
	Each  func(s S, v In) error
	Batch func(s S, b *Batch[In]) error
	End   func(s S) error
}

// errNoState is what every entry of a stage whose Init failed is reported with: Start has
// failed and the graph is draining, and the stage has no state to process it with.
var errNoState = errors.New("flow: the stage has no state: its Init failed")

// cell is one stage's state.
type cell[S any] struct {
	v  S
	ok bool // made: Init returned without error, or there is no Init
}

// newCell makes stage st's state cell and installs its Init and End as the stage's hooks.
func newCell[S any](st *stage, init func(*Stage) (S, error), end func(S) error) *cell[S] {
	c := &cell[S]{ok: init == nil}
	if init != nil {
		st.init = func() error {
			v, err := init(&st.h)
			if err == nil {
				c.v, c.ok = v, true
			}
			return err
		}
	}
	if end != nil {
		st.fin = func() error {
			if !c.ok {
				return nil
			}
			return end(c.v)
		}
	}
	return c
}

// Stateful adds a level of n stages, each with a state of its own; see Stateful.
func (s *Stream[T]) Stateful[S, Out any](n int, p Stateful[T, S, Out], opts ...Option) *Stream[Out] {
	if (p.Each == nil) == (p.Batch == nil) {
		opts = invalid(opts, "a Stateful level reading %T needs exactly one of Each and Batch", *new(T))
	}
	impl := &processImpl[T, Out]{key: s.key, part: s.part, stateful: func(st *stage, em *Emitter[Out]) procFuncs[T, Out] {
		var (
			init func(*Stage) (S, error)
			end  func(S) error
		)
		if p.Init != nil {
			init = func(h *Stage) (S, error) { return p.Init(h, em) }
		}
		if p.End != nil {
			end = func(v S) error { return p.End(v, em) }
		}
		c := newCell(st, init, end)
		if p.Batch != nil {
			return procFuncs[T, Out]{batch: func(b *Batch[T], e *Emitter[Out]) error {
				if !c.ok {
					return errNoState
				}
				return p.Batch(c.v, b, e)
			}}
		}
		return procFuncs[T, Out]{each: func(v *T, e *Emitter[Out]) error {
			if !c.ok {
				return errNoState
			}
			return p.Each(c.v, *v, e)
		}}
	}}
	return newStream[Out](s.attach(kindProcess, n, opts, impl.roles()))
}

// StatefulSink ends a chain with a level of n stages, each with a state of its own; see
// StatefulSink.
func (s *Stream[T]) StatefulSink[S any](n int, p StatefulSink[T, S], opts ...Option) {
	if (p.Each == nil) == (p.Batch == nil) {
		opts = invalid(opts, "a StatefulSink reading %T needs exactly one of Each and Batch", *new(T))
	}
	impl := &consumeImpl[T]{key: s.key, part: s.part, stateful: func(st *stage) consumeFuncs[T] {
		c := newCell(st, p.Init, p.End)
		if p.Batch != nil {
			return consumeFuncs[T]{batch: func(b *Batch[T]) error {
				if !c.ok {
					return errNoState
				}
				return p.Batch(c.v, b)
			}}
		}
		return consumeFuncs[T]{fn: func(v *T) error {
			if !c.ok {
				return errNoState
			}
			return p.Each(c.v, *v)
		}}
	}}
	s.attach(kindSink, n, opts, impl.roles())
}
