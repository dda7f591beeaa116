package flow

import (
	"context"
	"sync"
)

// A Fragment is a typed chain of levels that belongs to no graph: In is what its first level
// reads and Out what its last level publishes. It is built with Level (or Chain) and the
// Fragment methods, which mirror those of Stream, and applied to a stream with Stream.Via.
// Applying it adds fresh levels, with fresh rings and stages, to the stream's graph, so one
// fragment may be applied to any number of streams of any number of graphs.
//
// A fragment holds the functions it was given, and every graph it is applied to calls them,
// from as many goroutines as there are stages: state those functions keep must be safe for
// that, or belong to a Stateful level, whose state is made per stage.
//
// A fragment whose In does not match the stream it is applied to does not compile, exactly as
// a mismatched Then does not. Misuse that the compiler cannot see (a nil function, a width
// out of range) is reported by Start of the graph the fragment was applied to, with the
// level's name.
type Fragment[In, Out any] struct {
	apply func(*Stream[In]) *Stream[Out]
}

// Level returns a fragment of one level of n stages that maps every entry to one output, the
// graph-independent form of Stream.Then:
//
//	parse := flow.Level(4, parseLine).Then(2, enrich)
//	lines.Via(parse).Sink(1, store)
func Level[In, Out any](n int, fn func(In) Out, opts ...Option) *Fragment[In, Out] {
	return Chain[In]().Then(n, fn, opts...)
}

// Chain returns the empty fragment over T, which adds no level: Via of it returns the stream
// it is applied to. It starts fragments whose first level is not a map, for example
// flow.Chain[string]().Filter(2, parse).
func Chain[T any]() *Fragment[T, T] {
	return &Fragment[T, T]{apply: func(s *Stream[T]) *Stream[T] { return s }}
}

// extend returns the fragment f followed by step.
func extend[In, Mid, Out any](f *Fragment[In, Mid], step func(*Stream[Mid]) *Stream[Out]) *Fragment[In, Out] {
	return &Fragment[In, Out]{apply: func(s *Stream[In]) *Stream[Out] { return step(f.apply(s)) }}
}

// Via applies the fragment f to the stream and returns the stream of f's last level. The
// stream's routing (KeyBy, PartitionBy, Broadcast) applies to f's first level; a fragment
// that starts with a routing of its own may only be applied to a stream without one. A nil f
// is reported by Start.
func (s *Stream[T]) Via[Out any](f *Fragment[T, Out]) *Stream[Out] {
	if f == nil {
		s.g.misuse("flow: Via of a nil fragment reading %T", *new(T))
		return &Stream[Out]{g: s.g} // reads nothing; what attaches to it is never reached
	}
	return f.apply(s)
}

// Then appends a level that maps every entry to one output, as Stream.Then does.
func (f *Fragment[In, Out]) Then[Next any](n int, fn func(Out) Next, opts ...Option) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.Then(n, fn, opts...) })
}

// ThenErr appends a level whose function can fail, as Stream.ThenErr does.
func (f *Fragment[In, Out]) ThenErr[Next any](n int, fn func(Out) (Next, error), opts ...Option) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.ThenErr(n, fn, opts...) })
}

// Filter appends a filter-map level, as Stream.Filter does.
func (f *Fragment[In, Out]) Filter[Next any](n int, fn func(Out) (Next, bool), opts ...Option) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.Filter(n, fn, opts...) })
}

// Expand appends a level that maps each entry to any number of outputs, as Stream.Expand does.
func (f *Fragment[In, Out]) Expand[Next any](n int, fn func(Out, *Emitter[Next]), opts ...Option) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.Expand(n, fn, opts...) })
}

// ExpandErr appends an Expand level whose function can fail, as Stream.ExpandErr does.
func (f *Fragment[In, Out]) ExpandErr[Next any](n int, fn func(Out, *Emitter[Next]) error, opts ...Option) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.ExpandErr(n, fn, opts...) })
}

// ThenBatch appends a level whose function takes each whole batch, as Stream.ThenBatch does.
func (f *Fragment[In, Out]) ThenBatch[Next any](n int, fn func(*Batch[Out], *Emitter[Next]) error, opts ...Option) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.ThenBatch(n, fn, opts...) })
}

// Stateful appends a level whose stages each own a state, as Stream.Stateful does.
func (f *Fragment[In, Out]) Stateful[S, Next any](n int, p Stateful[Out, S, Next], opts ...Option) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.Stateful(n, p, opts...) })
}

// Phase appends a handler over the entries in place, as Stream.Phase does.
func (f *Fragment[In, Out]) Phase(n int, fn func(*Out), opts ...Option) *Fragment[In, Out] {
	return extend(f, func(s *Stream[Out]) *Stream[Out] { return s.Phase(n, fn, opts...) })
}

// PhaseErr appends a phase whose function can fail, as Stream.PhaseErr does.
func (f *Fragment[In, Out]) PhaseErr(n int, fn func(*Out) error, opts ...Option) *Fragment[In, Out] {
	return extend(f, func(s *Stream[Out]) *Stream[Out] { return s.PhaseErr(n, fn, opts...) })
}

// PhaseBatch appends a phase that takes whole batches in place, as Stream.PhaseBatch does.
func (f *Fragment[In, Out]) PhaseBatch(n int, fn func(*Batch[Out]) error, opts ...Option) *Fragment[In, Out] {
	return extend(f, func(s *Stream[Out]) *Stream[Out] { return s.PhaseBatch(n, fn, opts...) })
}

// KeyBy routes the next level by key, as Stream.KeyBy does. A fragment that starts with a
// routing takes it from the fragment: applied to a stream that has a routing of its own, it
// is misuse that Start reports, rather than one routing silently replacing the other.
func (f *Fragment[In, Out]) KeyBy(key func(Out) uint64) *Fragment[In, Out] {
	return extend(f, func(s *Stream[Out]) *Stream[Out] { return routeOnce(s, "KeyBy").KeyBy(key) })
}

// PartitionBy routes the next level by explicit partition, as Stream.PartitionBy does, and
// as KeyBy does at the start of a fragment.
func (f *Fragment[In, Out]) PartitionBy(part func(Out) int) *Fragment[In, Out] {
	return extend(f, func(s *Stream[Out]) *Stream[Out] { return routeOnce(s, "PartitionBy").PartitionBy(part) })
}

// Broadcast makes every stage of the next level see every entry, as Stream.Broadcast does,
// and as KeyBy does at the start of a fragment.
func (f *Fragment[In, Out]) Broadcast() *Fragment[In, Out] {
	return extend(f, func(s *Stream[Out]) *Stream[Out] { return routeOnce(s, "Broadcast").Broadcast() })
}

// routeOnce reports a fragment's routing step applied to a stream that is already routed:
// the stream a fragment is applied to, when the fragment starts with a routing, or a
// fragment that routes twice in a row.
func routeOnce[T any](s *Stream[T], how string) *Stream[T] {
	if s.route != routeShared || s.nilRoute != "" {
		s.g.misuse("flow: a fragment's %s given a stream already routed (%s routing): route in one place", how, s.route)
	}
	return s
}

// Via appends the fragment next: fragments compose as streams do.
func (f *Fragment[In, Out]) Via[Next any](next *Fragment[Out, Next]) *Fragment[In, Next] {
	return extend(f, func(s *Stream[Out]) *Stream[Next] { return s.Via(next) })
}

// Run runs the fragment alone, for tests and tools: it builds a graph of one input, the
// fragment and a one-stage sink, publishes every entry of in, stops the graph, and returns
// what reached the sink, in the order it arrived (which is in's order only where every level
// of the fragment keeps it, for example at width 1), with the graph's error. opts apply to
// the graph. The input and the sink are unnamed levels, so they take the default names
// (see [Name]) and leave every other name free for the fragment's levels. Every entry of in
// is delivered or the error says why not.
func (f *Fragment[In, Out]) Run(ctx context.Context, in []In, opts ...GraphOption) ([]Out, error) {
	g := New(opts...)
	src := Input[In](g)
	var (
		mu  sync.Mutex // the sink is one stage; the lock orders its appends before the read below
		out []Out
	)
	src.Via(f).Sink(1, func(v Out) {
		mu.Lock()
		out = append(out, v)
		mu.Unlock()
	})
	if err := g.Start(ctx); err != nil {
		return nil, err
	}
	_, perr := src.PublishBatch(ctx, in)
	err := g.Stop() // the graph's error explains a refused publish, so it comes first
	if err == nil {
		err = perr
	}
	mu.Lock()
	defer mu.Unlock()
	return out, err
}
