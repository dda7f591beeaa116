package flow

import (
	"errors"
	"fmt"
)

var (
	// ErrStopped is returned by publishers once the graph is stopping or stopped.
	ErrStopped = errors.New("flow: graph stopped")
	// ErrNotStarted is returned when a graph or publisher is used before Start.
	ErrNotStarted = errors.New("flow: graph not started")
	// ErrStarted is returned by a second Start: a graph runs once.
	ErrStarted = errors.New("flow: graph already started")
	// ErrFull is returned by TryPublish when the ring has no free slot.
	ErrFull = errors.New("flow: ring full")
	// ErrInsideStage is returned by Stop and Wait called from a stage's own function,
	// which would otherwise wait for themselves; Stop has begun the drain.
	ErrInsideStage = errors.New("flow: Stop or Wait called from a stage's function; use RequestStop")
	// ErrGoexit is the Err of a StageError for a stage function that called runtime.Goexit
	// (as t.FailNow does) instead of returning or panicking. It is handled like a panic: the
	// stage carries on, on a new goroutine, under the level's error policy.
	ErrGoexit = errors.New("flow: the stage's function called runtime.Goexit")
)

// StageError reports a failure in user code: an error returned by a level's function (a
// Stateful Init and End among them) or a recovered panic. It names the level and stage so
// that a stalled or failing graph is never anonymous. A failed Init fails Start with one,
// whose Seq is -1 and whose Err starts with "init: ".
type StageError struct {
	Level string // the level's name
	Stage int    // the stage's index within its level
	Seq   int64  // the input sequence being processed (a batch's first), or -1 where there is none
	Err   error  // the returned error, or a description of the panic
	Panic any    // the recovered value when the function panicked, else nil
	Stack []byte // the panicking goroutine's stack, else nil
}

func (e *StageError) Error() string {
	if e.Panic != nil && e.Seq >= 0 {
		return fmt.Sprintf("flow: level %q stage %d: panic at sequence %d: %v", e.Level, e.Stage, e.Seq, e.Panic)
	}
	return fmt.Sprintf("flow: level %q stage %d: %v", e.Level, e.Stage, e.Err)
}

func (e *StageError) Unwrap() error { return e.Err }

// ErrorPolicy says what a level does when its function fails on an entry: StopGraph (the
// default, the zero value), Skip, or ErrorSink(fn). OnError sets it; a level has one policy.
// Whatever the policy, the failing entry's input slot is released and every output already
// produced is committed, so nothing stalls behind the failure.
type ErrorPolicy struct {
	skip bool
	sink *errorSink // a pointer keeps policies comparable
}

// errorSink is ErrorSink's function. Whether it has panicked or exited is kept per graph
// (level.sinkBroke): a policy made once may serve several graphs.
type errorSink struct {
	fn func(*StageError)
}

var (
	// StopGraph records the first failure as the graph's error and stops the graph: inputs
	// close, everything already accepted drains, and Wait returns the error.
	StopGraph = ErrorPolicy{}
	// Skip drops the failing entry, counts it in the stage's stats and carries on.
	Skip = ErrorPolicy{skip: true}
)

// ErrorSink returns the policy that hands every failure of the level to fn, called on the
// failing stage's goroutine, and carries on (the failing entry produces no output). fn must
// not block for long: the stage processes nothing while it runs. An fn that panics or calls
// runtime.Goexit stops the graph with an error that says so, and is not called again by
// that graph, at any level given this policy: their later failures stop the graph instead.
func ErrorSink(fn func(*StageError)) ErrorPolicy { return ErrorPolicy{sink: &errorSink{fn: fn}} }

func (p ErrorPolicy) String() string {
	switch {
	case p.sink != nil:
		return "sink"
	case p.skip:
		return "skip"
	}
	return "stop"
}
