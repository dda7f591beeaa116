package flow

import (
	"context"
	"runtime"
	"sync/atomic"
)

// SourceStage is what a source function gets: one stage of a source level (its Stage
// handle, with its event loop) and the emitter of its ring. It is valid on the stage's
// goroutine only (the source function itself and the callbacks of fds and timers registered
// on Loop). Its Stopping also reports a stage that called Finish.
type SourceStage[T any] struct {
	*Stage
	em      *Emitter[T]
	onStop  []func()
	stopped int // how many of onStop have been started
}

// sourceRun is what only a source stage has: its function and its stop hooks.
type sourceRun struct {
	fn func() error
	// stop runs the OnStop hooks not yet run; after a hook that panicked or exited, the
	// next call goes on with the hook after it.
	stop     func()
	finished atomic.Bool // the source called Finish
}

// Source adds a level of n stages that produce entries themselves. fn runs once on each
// stage's goroutine, which has an event loop of its own in either mode (dedicated: an
// OS-locked thread; shared: a plain goroutine, see Shared): it may publish directly, and it
// may register fds and timers on the stage's loop, whose callbacks publish later. When fn
// returns, the stage serves its loop until the graph stops or the stage calls Finish. An
// error from fn is handled by the level's error policy and ends the stage.
func Source[T any](g *Graph, n int, fn func(*SourceStage[T]) error, opts ...Option) *Stream[T] {
	if fn == nil {
		opts = invalid(opts, "nil source function for %T", *new(T))
	}
	lv := g.addLevel(kindSource, n, opts, nil, routeShared, roles{
		newRing: newRing[T],
		bind: func(st *stage) outbox {
			em := newEmitter[T](st)
			ss := &SourceStage[T]{Stage: &st.h, em: em}
			st.src = &sourceRun{
				fn: func() error { return fn(ss) },
				stop: func() {
					// By index: a hook may register another, which runs in its turn. The
					// index moves past a hook before it runs, so that the hooks after one
					// that panics still run.
					for ss.stopped < len(ss.onStop) {
						ss.stopped++
						ss.onStop[ss.stopped-1]()
					}
				},
			}
			return em
		},
	})
	return newStream[T](lv)
}

// runSource runs the source function, then serves the loop's fds and timers until the graph
// stops or the stage finishes.
func (st *stage) runSource() {
	if err := st.protectCall(st.src.fn, st.sourceLoop); err != nil {
		if err != errPanicked {
			st.out.flush()
			st.fail(-1, err, nil, nil)
		}
		st.stopSource()
		return
	}
	st.sourceLoop()
}

// sourceLoop serves the loop until the graph stops or the stage finishes. Output emitted by
// callbacks is committed after every round of dispatch, because the wait re-checks its
// condition after each.
func (st *stage) sourceLoop() {
	for !st.sourceDone() {
		_ = st.protectCall(func() error { return st.loop.Wait(context.Background(), st.sourceDone) }, st.sourceLoop)
	}
	st.stopSource()
}

func (st *stage) sourceDone() bool {
	st.out.flush()
	if st.wokeParked {
		st.yield()
	}
	return st.stopRequested()
}

// yield lets the readers a shared source woke run before it sleeps in its loop. It runs in
// the ready function of the loop's wait, which is meant to be cheap; a yield is, next to
// the sleep it comes before. A woken
// goroutine is queued on the waker's P, where it runs when the waker parks; but a source
// sleeps in a system call, not a park, and another P may take the reader only after a
// back-off the scheduler applies while the waker still runs (3 µs asked, nearer 100 µs
// measured on a 2-vCPU VM, where the timer slack rounds it up). Yielding puts the source
// behind the readers instead, at the cost of one trip through the scheduler per sleep.
func (st *stage) yield() {
	st.wokeParked = false
	runtime.Gosched()
}

// stopSource runs the OnStop hooks. One that panics is the stage's failure, and the hooks
// after it still run; after one that calls runtime.Goexit, a new goroutine runs them.
func (st *stage) stopSource() {
	done := false
	for !done {
		_ = st.protectCall(func() error { st.src.stop(); done = true; return nil }, st.stopSource)
	}
	st.out.flush()
}

func (st *stage) stopRequested() bool { return st.src.finished.Load() || st.lv.g.stopping.Load() }

// Emit writes v in place for publication. What was emitted is committed, with one store, by
// Flush, at the end of fn and of every round of loop callbacks, and whenever the emitter
// claims its next run of slots (every few dozen entries), so a long-running fn never holds
// entries back for long. It returns ErrStopped, publishing nothing, once the graph is
// stopping or the stage has called Finish.
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
// Hooks run in the order registered; one registered by a running hook runs after it. A
// hook that panics is the stage's failure (under the level's error policy), and the hooks
// after it still run.
func (s *SourceStage[T]) OnStop(f func()) { s.onStop = append(s.onStop, f) }

// Finish ends the stage once the current callback returns: its ring closes, and readers
// drain it. From the call on, Emit and Publish return ErrStopped; what was emitted before
// it is delivered. A graph whose sources have all finished and that has no Input stops by itself.
func (s *SourceStage[T]) Finish() { s.st.src.finished.Store(true) }

// Completed returns how many of the entries this stage has emitted are finished: taken by
// every level that reads them, and every entry that processing them produced finished in
// its turn, down to the sinks, whatever became of them on the way (filtered, skipped by an
// error policy, expanded, broadcast). Entries finish in emission order as far as Completed
// counts them: the first Completed() entries emitted are finished. A connector that must
// acknowledge its records only once the graph is done with them (a broker offset, an ack)
// acknowledges that many. Committed entries count only once Flush (or the end of a round of
// callbacks) has committed them. Any goroutine may call it; each call walks the levels
// below the source, so call it at the pace of acknowledgements, not per entry.
func (s *SourceStage[T]) Completed() int64 {
	st := s.Stage.st
	return st.lv.g.finished(st.lv, st.idx)
}
