package flow

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"golang.org/x/sys/cpu"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/poller"
	"github.com/loopyring/loopyring/ring"
)

// port is one input of a stage: its reader on an upstream ring and the typed function that
// processes a range of that ring.
type port struct {
	r     *ring.Reader
	run   func(lo, hi int64)
	whole bool // run takes a batch as one unit: a panic fails the rest of it
}

// stage is one worker of a level. Everything but the stats counters, finished and the loop's
// Wake is touched only by the stage's own goroutine once it runs.
type stage struct {
	lv    *level
	idx   int
	cpu   int // -1: not pinned
	loop  *poller.Loop
	ports []port
	ring  ringHandle // own output ring; nil for sinks and phases

	emitter    any    // *Emitter[Out], set by bind
	flushOut   func() // commits what the emitter holds; nil without an output ring
	endOut     func() // flushOut, then gives back unfilled claimed slots
	source     func() error
	sourceStop func() error
	finished   atomic.Bool  // a source called Finish
	gid        atomic.Int64 // the stage goroutine's id, for insideStage
	cur        int64        // the sequence being processed, for failure reports

	// Deferred wakes of the readers of the stage's own ring (see notifier).
	deferring bool
	owed      []*notifier
	owedAt    time.Time // when the first of the owed wakes was deferred
	sincePaid int       // entries committed since the stage last paid its wakes
	payEvery  int

	// Stats: written by the stage goroutine, read by Graph.Stats from any goroutine.
	_       cpu.CacheLinePad
	in      atomic.Uint64
	out     atomic.Uint64
	batches atomic.Uint64
	errs    atomic.Uint64
	blocked atomic.Uint64 // claims that found the output ring full
	busy    atomic.Int64  // nanoseconds spent processing batches
	_       cpu.CacheLinePad
}

// run is the stage's goroutine. It locks itself to its OS thread for life and never unlocks:
// a goroutine that exits while locked takes its thread with it, so a thread whose CPU mask we
// changed is never handed back to the scheduler's pool.
func (st *stage) run(ready chan<- error) {
	defer st.lv.g.wg.Done()
	runtime.LockOSThread()
	st.gid.Store(goid())
	var err error
	if st.cpu >= 0 {
		if perr := affinity.Pin(st.cpu); perr != nil {
			// The stage still runs, unpinned, so that the graph Start is stopping drains.
			err = fmt.Errorf("flow: level %q stage %d: pin to CPU %d: %w", st.lv.name, st.idx, st.cpu, perr)
		}
	}
	ready <- err
	if st.source != nil {
		st.runSource()
	} else {
		st.deferring = true
		st.runInputs()
		st.deferring = false
		st.payWakes()
	}
	if st.ring != nil {
		st.endOut()
		st.ring.Close()
	}
}

// runInputs takes every available batch from every input in turn until all inputs are
// closed and drained; when there is nothing to take it spins briefly, then sleeps in its
// loop until a publisher (or Close) wakes it.
func (st *stage) runInputs() {
	ready := st.inputReady
	spin := 0
	for {
		worked := false
		for i := range st.ports {
			p := &st.ports[i]
			if lo, hi, ok := p.r.TryRead(); ok {
				end := st.batch(p, lo, hi)
				if len(st.owed) > 0 && end.Sub(st.owedAt) > maxDeferredWake {
					st.payWakes()
				}
				worked = true
			}
		}
		if worked {
			spin = 0
			continue
		}
		st.payWakes()
		if st.drained() {
			return
		}
		if spin < st.lv.opts.spin {
			spin++
			continue
		}
		spin = 0
		_ = st.loop.Wait(context.Background(), ready) // a background context never ends the wait
	}
}

// batch processes [lo, hi) of one input and releases it, whatever user code does, and
// returns the time it finished.
func (st *stage) batch(p *port, lo, hi int64) time.Time {
	start := time.Now()
	for next := lo; next < hi; {
		next = st.protect(p, next, hi)
	}
	p.r.Release(hi)
	end := time.Now()
	st.in.Add(uint64(hi - lo))
	st.batches.Add(1)
	st.busy.Add(int64(end.Sub(start)))
	return end
}

// protect runs p over [lo, hi). If user code panics it commits the output produced so far,
// reports the panic, and returns the sequence after the failing one so the batch goes on.
func (st *stage) protect(p *port, lo, hi int64) (next int64) {
	defer func() {
		if v := recover(); v != nil {
			if st.flushOut != nil {
				st.flushOut()
			}
			st.fail(st.cur, nil, v, debug.Stack())
			next = st.cur + 1
			if p.whole {
				next = hi
			}
		}
	}()
	st.cur = lo
	p.run(lo, hi)
	return hi
}

// inputReady is the condition a sleeping stage waits for: work on some input, or every
// input drained.
func (st *stage) inputReady() bool {
	for i := range st.ports {
		if _, _, ok := st.ports[i].r.TryRead(); ok {
			return true
		}
	}
	return st.drained()
}

func (st *stage) drained() bool {
	for i := range st.ports {
		if !st.ports[i].r.Drained() {
			return false
		}
	}
	return true
}

func (st *stage) stopRequested() bool { return st.finished.Load() || st.lv.g.stopping.Load() }

// runSource runs the source function, then serves the loop's fds and timers until the graph
// stops or the stage finishes. Output emitted by callbacks is committed after every round
// of dispatch, because the wait re-checks its condition after each.
func (st *stage) runSource() {
	if err := st.protectCall(st.source); err != nil {
		if err != errPanicked {
			st.flushOut()
			st.fail(-1, err, nil, nil)
		}
		_ = st.protectCall(st.sourceStop)
		st.flushOut()
		return
	}
	ready := func() bool {
		st.flushOut()
		return st.stopRequested()
	}
	for !ready() {
		_ = st.protectCall(func() error { return st.loop.Wait(context.Background(), ready) })
	}
	_ = st.protectCall(st.sourceStop)
	st.flushOut()
}

// errPanicked is what protectCall returns for a panic it has already reported.
var errPanicked = errors.New("flow: panicked")

// protectCall runs f, turning a panic into a reported failure.
func (st *stage) protectCall(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			st.flushOut()
			st.fail(-1, nil, v, debug.Stack())
			err = errPanicked
		}
	}()
	return f()
}

// fail reports a failure of user code under the level's error policy.
func (st *stage) fail(seq int64, err error, panicked any, stack []byte) {
	st.errs.Add(1)
	if panicked != nil {
		err = fmt.Errorf("panic: %v", panicked)
	}
	se := &StageError{Level: st.lv.name, Stage: st.idx, Seq: seq, Err: err, Panic: panicked, Stack: stack}
	switch {
	case st.lv.opts.sink != nil:
		st.toSink(se)
	case st.lv.opts.policy == Skip:
	default:
		st.stopGraph(se)
	}
}

// toSink hands a failure to the level's error sink. A sink that panics cannot be trusted
// with the next failure either, so its panic stops the graph.
func (st *stage) toSink(se *StageError) {
	defer func() {
		if v := recover(); v != nil {
			st.stopGraph(&StageError{Level: st.lv.name, Stage: st.idx, Seq: se.Seq,
				Err: fmt.Errorf("error sink panicked: %v (handling %w)", v, se), Stack: debug.Stack()})
		}
	}()
	st.lv.opts.sink(se)
}

func (st *stage) stopGraph(err error) {
	g := st.lv.g
	g.setErr(err)
	g.requestStop()
}
