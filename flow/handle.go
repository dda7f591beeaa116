package flow

import "github.com/loopyring/loopyring/poller"

// A Stage is one stage of a level as user code sees it: every level kind reaches it, through
// Emitter.Stage, Batch.Stage, the Init of a Stateful level, or the SourceStage a source
// function gets. Its methods other than Stopping and RequestStop belong to the stage's own
// goroutine (the stage's functions and the callbacks of its loop).
type Stage struct {
	st *stage
}

// Index returns the stage's index within its level, from 0 to the level's width less one.
func (s *Stage) Index() int { return s.st.idx }

// Level returns the name of the stage's level.
func (s *Stage) Level() string { return s.st.lv.name }

// Mode returns the mode the stage runs in: Dedicated or Shared.
func (s *Stage) Mode() Mode { return s.st.mode }

// Loop returns the stage's event loop, for registering fds and timers whose callbacks run on
// the stage's goroutine, or nil where a processing or sink stage runs shared: such a stage
// sleeps in the Go runtime, not in a loop of its own. A level whose stages need their loop
// asks for StageMode(Dedicated). Sources always have one, in either mode.
//
// A processing or sink stage serves its loop's fds and timers while it waits for input and,
// once it has asked for its loop, between batches while it is busy; what a callback emits
// is committed when the round of callbacks ends. The loop lives as long as the stage: a
// stage ends when its inputs are drained, whatever is still registered, so close what the
// callbacks use in the level's End hook (Stateful) or when the graph is done.
func (s *Stage) Loop() *poller.Loop {
	if st := s.st; st.loop != nil && st.src == nil && !st.loopUsed {
		st.loopUsed = true
		st.ready = st.loopReady
	}
	return s.st.loop
}

// Stopping reports whether the graph is stopping (or, for a source stage, whether it has
// finished). Processing stages go on until their inputs are drained whatever it says;
// long-running user code uses it to cut work short. Any goroutine may call it.
func (s *Stage) Stopping() bool {
	if s.st.src != nil {
		return s.st.stopRequested()
	}
	return s.st.lv.g.stopping.Load()
}

// RequestStop begins the graph's drain, as Graph.RequestStop does, without waiting for it.
// Any goroutine may call it.
func (s *Stage) RequestStop() { s.st.lv.g.requestStop() }
