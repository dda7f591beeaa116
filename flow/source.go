package flow

import (
	"errors"

	"github.com/loopyring/loopyring/poller"
	"github.com/loopyring/loopyring/ring"
)

// SourceStage is what a source function gets: one stage of a source level, with its event
// loop and the emitter of its ring. It is valid on the stage's goroutine only (the source
// function itself and the callbacks of fds and timers registered on Loop).
type SourceStage[T any] struct {
	st     *stage
	em     *Emitter[T]
	onStop []func()
}

// Source adds a level of n stages that produce entries themselves. fn runs once on each
// stage's OS-locked goroutine: it may publish directly, and it may register fds and timers
// on the stage's loop, whose callbacks publish later. When fn returns, the stage serves its
// loop until the graph stops or the stage calls Finish. An error from fn is handled by the
// level's error policy and ends the stage.
func Source[T any](g *Graph, n int, fn func(*SourceStage[T]) error, opts ...Option) *Stream[T] {
	if fn == nil {
		g.misuse("flow: nil source function for %T", *new(T))
	}
	lv := g.addLevel(kindSource, n, opts, nil, routeShared, &sourceImpl[T]{fn: fn})
	return newStream[T](lv)
}

type sourceImpl[T any] struct {
	fn func(*SourceStage[T]) error
}

func (s *sourceImpl[T]) newRing(capacity int, multi bool, pw ring.Waiter) (ringHandle, error) {
	return newRing[T](capacity, multi, pw)
}

func (s *sourceImpl[T]) bind(st *stage) {
	bindEmitter[T](st)
	ss := &SourceStage[T]{st: st, em: st.emitter.(*Emitter[T])}
	st.source = func() error { return s.fn(ss) }
	st.sourceStop = func() error {
		for _, f := range ss.onStop {
			f()
		}
		return nil
	}
}

func (s *sourceImpl[T]) port(*stage, ringHandle) (func(lo, hi int64), bool, error) {
	return nil, false, errors.New("flow: a source level reads nothing") // never called: no edges
}

// Loop returns the stage's event loop, for registering fds and timers.
func (s *SourceStage[T]) Loop() *poller.Loop { return s.st.loop }

// Index returns the stage's index within its level.
func (s *SourceStage[T]) Index() int { return s.st.idx }

// Stopping reports whether the graph is stopping or the stage has finished; a source that
// loops should end when it does.
func (s *SourceStage[T]) Stopping() bool { return s.st.stopRequested() }

// Emit writes v in place for publication. What was emitted is committed, with one store, by
// Flush, at the end of fn and of every round of loop callbacks, and whenever the emitter
// claims its next run of slots (every few dozen entries), so a long-running fn never holds
// entries back for long. It returns ErrStopped, publishing nothing, once the graph is
// stopping.
func (s *SourceStage[T]) Emit(v T) error {
	if s.st.stopRequested() {
		return ErrStopped
	}
	s.em.Emit(v)
	return nil
}

// Publish is Emit followed by Flush.
func (s *SourceStage[T]) Publish(v T) error {
	if err := s.Emit(v); err != nil {
		return err
	}
	s.em.flush()
	return nil
}

// Flush commits every entry emitted so far and wakes the stages that read them.
func (s *SourceStage[T]) Flush() { s.em.flush() }

// OnStop registers f to run on the stage's goroutine when it ends (close listeners here).
func (s *SourceStage[T]) OnStop(f func()) { s.onStop = append(s.onStop, f) }

// Finish ends the stage once the current callback returns: its ring closes, and readers
// drain it. A graph whose sources have all finished and that has no Input stops by itself.
func (s *SourceStage[T]) Finish() { s.st.finished.Store(true) }
