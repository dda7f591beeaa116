package flow

import (
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
	whole bool        // run takes a batch as one unit: a panic fails the rest of it
	ck    *checkpoint // what the port has processed, for completion (complete.go)
}

// stage is one worker of a level. Everything but the stats counters, gid and the waiter's
// Wake is touched only by the stage's own goroutine once it runs.
type stage struct {
	lv    *level
	idx   int
	cpu   int  // -1: not pinned
	mode  Mode // Dedicated or Shared
	ports []port
	ready func() bool // st.inputReady, bound once so that waiting does not allocate

	// What the stage sleeps on (see wait.go): its loop (dedicated stages, sources) or parker
	// (shared processing and sink stages), behind the level's spin phase.
	waiter ring.Waiter
	loop   *poller.Loop // dedicated stages and sources only
	parker *ring.Parker // shared processing and sink stages only

	ring ringHandle // own output ring; nil for sinks and phases
	out  outbox     // the emitter into ring
	src  *sourceRun // source stages only

	h        Stage        // the handle user code gets
	loopUsed bool         // a processing or sink stage asked for its loop: serve it while busy
	init     func() error // Stateful levels: makes the stage's state, before Start returns
	fin      func() error // Stateful levels: the End hook, after the last input

	gid     atomic.Int64  // the stage goroutine's id, for insideStage
	cur     int64         // the sequence being processed, for failure reports
	taken   int64         // entries of the current batch handed to the stage's function so far: ports count each before the call, so a panic loses none
	handoff chan struct{} // set while a Goexit hands the stage to a new goroutine (serve)

	// The batch being processed, for a goroutine that takes over after a Goexit (resume):
	// its port (nil between batches) and its range.
	bp       *port
	blo, bhi int64
	// gathering: a batch port is running key or partition functions to gather the stage's
	// share, before it calls the level's function. A failure then is the one entry's, and
	// the batch goes on after it even at a level that takes whole batches.
	gathering bool

	// Deferred wakes of the readers of the stage's own ring (see wait.go).
	deferring bool
	owed      bool
	owedAt    time.Duration // when the first of the owed wakes was deferred (monotonic)
	since     time.Duration // when the stage last finished a batch or a wait (for busy; monotonic)
	sincePaid int           // entries committed since the stage last paid its wakes
	payEvery  int
	// wokeParked: a shared source's commit woke a reader parked in the Go runtime, which
	// waits on this goroutine's P until the source lets go of it (sourceDone).
	wokeParked bool

	// Stats: written by the stage goroutine, read by Graph.Stats from any goroutine.
	_       cpu.CacheLinePad
	in      atomic.Uint64
	handled atomic.Uint64 // entries of the stage's own share handed to its function
	emitted atomic.Uint64
	batches atomic.Uint64
	errs    atomic.Uint64
	blocked atomic.Uint64 // claims that found the output ring full
	sleeps  atomic.Uint64 // waits for input of a shared stage (a dedicated one's loop counts its own)
	busy    atomic.Int64  // nanoseconds spent processing batches
	_       cpu.CacheLinePad
}

// run is the stage's goroutine: it reports to Start whether it could take its place, then
// serves until its inputs are drained (or, for a source, until it stops).
func (st *stage) run(ready chan<- error) {
	err := st.enter()
	if err == nil && st.init != nil {
		err = st.callInit(ready)
	}
	ready <- err
	st.work()
}

// work serves the stage until it ends.
func (st *stage) work() {
	if st.src != nil {
		st.serve(st.runSource, st.sourceLoop)
	} else {
		st.serve(st.runInputs, st.runInputs)
	}
}

// enter prepares the calling goroutine to run the stage. A dedicated stage locks itself to
// its OS thread for life and never unlocks: a goroutine that exits while locked takes its
// thread with it, so a thread whose CPU mask was changed is never handed back to the
// scheduler's pool. A shared stage is a plain goroutine.
func (st *stage) enter() error {
	st.gid.Store(goid())
	if st.mode != Dedicated {
		return nil
	}
	runtime.LockOSThread()
	if st.cpu >= 0 {
		if err := affinity.Pin(st.cpu); err != nil {
			// The stage still runs, unpinned, so that the graph Start is stopping drains.
			return fmt.Errorf("flow: level %q stage %d: pin to CPU %d: %w", st.lv.name, st.idx, st.cpu, err)
		}
	}
	return nil
}

// serve runs body, then ends the stage: its output committed, its ring closed, the graph
// told.
//
// User code that calls runtime.Goexit (what t.FailNow does) ends the goroutine: body neither
// returns nor panics, and nothing can keep the goroutine alive. protect and protectCall
// hand the stage over to a new goroutine that carries on where the failing call left off
// (see handOver) before they report the failure, so that a report that Goexits in its turn
// (an error sink) cannot stop the hand-over; this goroutine then only lets go. A Goexit that
// neither of them saw (an error sink called for a panic: toSink has reported it) hands over
// here, and the new goroutine goes on after the entry being processed (resume).
func (st *stage) serve(body, again func()) {
	returned := false
	defer func() {
		if returned {
			st.end()
			return
		}
		if st.handoff == nil {
			st.handOver(st.resume(again))
		}
		h := st.handoff
		st.handoff = nil
		close(h) // the new goroutine owns the stage from here on
	}()
	body()
	returned = true
}

// resume returns how a stage whose goroutine ended inside a batch goes on: with the rest of
// that batch after st.cur, then its inputs; outside a batch, with again.
func (st *stage) resume(again func()) func() {
	p := st.bp
	if p == nil {
		return again
	}
	lo, hi, next := st.blo, st.bhi, st.after(p)
	return func() {
		st.batch(p, lo, next, hi)
		st.runInputs()
	}
}

// handOver starts a goroutine that takes over the stage once the current one has let go
// (serve closes st.handoff), and runs cont there. The channel's close happens before the new
// goroutine's receive, so everything the old goroutine wrote is visible to the new one.
func (st *stage) handOver(cont func()) {
	h := make(chan struct{})
	st.handoff = h
	go func() {
		<-h
		if err := st.enter(); err != nil {
			st.fail(-1, err, nil, nil)
		}
		st.serve(cont, cont)
	}()
}

func (st *stage) end() {
	if st.ring != nil {
		st.deferring = false
		st.payWakes()
		st.out.end()
		st.ring.Close()
	}
	st.lv.g.wg.Done()
}

// runInputs takes every available batch from every input in turn until all inputs are
// closed and drained; when there is nothing to take it waits (see idle).
func (st *stage) runInputs() {
	st.deferring = st.ring != nil
	st.since = monotonic()
	for {
		worked := false
		for i := range st.ports {
			p := &st.ports[i]
			if lo, hi, ok := p.r.TryRead(); ok {
				st.batch(p, lo, lo, hi)
				worked = true
			}
		}
		if worked {
			if st.loopUsed {
				st.serveLoop()
			}
			continue
		}
		if st.drained() {
			st.callEnd()
			return // end pays what is owed
		}
		st.idle()
		st.since = monotonic()
	}
}

// callInit runs the level's Init for this stage, turning a panic into the error Start
// returns. A Goexit in Init is reported to Start the same way (ErrGoexit), here, since this
// goroutine is ending; a new goroutine then serves the stage, without its state.
func (st *stage) callInit(ready chan<- error) (err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		if v != nil {
			err = st.initError(nil, v, debug.Stack())
			return
		}
		err = st.initError(ErrGoexit, nil, nil)
		ready <- err
		go func() { // the go statement orders everything above before the new goroutine
			if err := st.enter(); err != nil {
				st.fail(-1, err, nil, nil)
			}
			st.work()
		}()
	}()
	err = st.init()
	returned = true
	if err != nil {
		return st.initError(err, nil, nil)
	}
	if st.out != nil {
		st.out.flush() // what Init emitted is delivered now, not with the first input
	}
	return nil
}

// initError is the StageError of a failed Init: the error it returned, runtime.Goexit, or
// the value it panicked with. It has no sequence, and its Err says that Init failed.
func (st *stage) initError(err error, panicked any, stack []byte) *StageError {
	if perr, ok := panicked.(error); ok {
		err = fmt.Errorf("panic: %w", perr)
	} else if panicked != nil {
		err = fmt.Errorf("panic: %v", panicked)
	}
	return &StageError{Level: st.lv.name, Stage: st.idx, Seq: -1, Err: fmt.Errorf("init: %w", err), Panic: panicked, Stack: stack}
}

// callEnd runs the level's End hook once, after the stage's last input, and commits what it
// emitted. Its failures follow the level's error policy.
func (st *stage) callEnd() {
	fin := st.fin
	if fin == nil {
		return
	}
	st.fin = nil // once, even if it exits
	if err := st.protectCall(fin, func() {}); err != nil && err != errPanicked {
		st.fail(-1, err, nil, nil)
	}
	if st.out != nil {
		st.out.flush()
	}
}

// serveLoop runs the callbacks of the fds and timers that are ready on a busy stage's loop
// (see Stage.Loop) and commits what they emitted.
func (st *stage) serveLoop() {
	_ = st.protectCall(func() error { return st.loop.Poll(0) }, st.runInputs)
	if st.out != nil {
		st.out.flush()
	}
}

// batch processes [from, hi) of one input, whose batch began at lo, and releases it,
// whatever user code does. The stage counts as busy from the end of its last batch (or
// wait) to the end of this one: one clock read per batch rather than two, which for a
// stage taking one or two entries at a time was 8% of its time.
func (st *stage) batch(p *port, lo, from, hi int64) {
	st.bp, st.blo, st.bhi = p, lo, hi
	// A key function that panicked on the range's last entry leaves what was gathered before
	// it for one more call.
	for next := from; next < hi || st.gathering; {
		next = st.protect(p, lo, next, hi)
	}
	st.handled.Add(uint64(st.taken))
	st.taken = 0
	st.bp = nil
	st.mark(p, hi)
	p.r.Release(hi)
	end := monotonic()
	st.in.Add(uint64(hi - lo))
	st.batches.Add(1)
	st.busy.Add(int64(end - st.since))
	st.since = end
	st.payLate(end)
}

// protect runs p over [from, hi) of the batch [lo, hi). If user code panics it commits the
// output produced so far, reports the panic, and returns the sequence after the failing one
// so the batch goes on. If user code calls runtime.Goexit, it does the same and hands the
// rest of the batch, and the stage, to a new goroutine (see serve).
func (st *stage) protect(p *port, lo, from, hi int64) (next int64) {
	returned := false
	defer func() {
		if !returned {
			next = st.failed(p, recover())
		}
	}()
	st.cur = from
	p.run(from, hi)
	returned = true
	return hi
}

// failed handles user code that panicked with v, or called runtime.Goexit (v is nil), at
// st.cur of the current batch, and returns where the batch goes on. It is apart from
// protect so that the hot path's deferred closure captures nothing that escapes.
func (st *stage) failed(p *port, v any) (next int64) {
	if st.out != nil {
		st.out.flush()
	}
	next = st.after(p)
	if v == nil { // runtime.Goexit: this goroutine ends whatever happens here
		st.handOver(st.resume(nil))
		st.fail(st.cur, ErrGoexit, nil, nil)
		return next
	}
	st.fail(st.cur, nil, v, debug.Stack())
	return next
}

// after returns where the current batch of port p goes on after user code failed at st.cur:
// the next entry, or the batch's end at a level whose function took the batch whole (it may
// have handled any of it), unless the failure was a key function's while the batch was being
// gathered.
func (st *stage) after(p *port) int64 {
	if p.whole && !st.gathering {
		return st.bhi
	}
	return st.cur + 1
}

// inputReady is the condition a waiting stage waits for: work on some input, or every
// input drained.
func (st *stage) inputReady() bool {
	for i := range st.ports {
		if _, _, ok := st.ports[i].r.TryRead(); ok {
			return true
		}
	}
	return st.drained()
}

// loopReady is inputReady for a stage that serves its loop: the wait re-checks it after
// every round of callbacks, so it first commits what they emitted and wakes the readers,
// which would otherwise wait for the stage's next input.
func (st *stage) loopReady() bool {
	if st.out != nil {
		st.out.flush()
		st.payWakes()
	}
	return st.inputReady()
}

func (st *stage) drained() bool {
	for i := range st.ports {
		if !st.ports[i].r.Drained() {
			return false
		}
	}
	return true
}

// errPanicked is what protectCall returns for a failure it has already reported.
var errPanicked = errors.New("flow: panicked")

// protectCall runs f, turning a panic into a reported failure. A Goexit in f is reported
// the same way, and the stage carries on with cont on a new goroutine (see serve).
func (st *stage) protectCall(f func() error, cont func()) (err error) {
	returned := false
	defer func() {
		if !returned {
			err = st.callFailed(cont, recover())
		}
	}()
	err = f()
	returned = true
	return err
}

// callFailed is failed for protectCall.
func (st *stage) callFailed(cont func(), v any) error {
	if st.out != nil {
		st.out.flush()
	}
	if v == nil {
		st.handOver(cont)
		st.fail(-1, ErrGoexit, nil, nil)
		return nil
	}
	st.fail(-1, nil, v, debug.Stack())
	return errPanicked
}

// fail reports a failure of user code under the level's error policy.
func (st *stage) fail(seq int64, err error, panicked any, stack []byte) {
	st.errs.Add(1)
	if panicked != nil {
		if perr, ok := panicked.(error); ok {
			err = fmt.Errorf("panic: %w", perr)
		} else {
			err = fmt.Errorf("panic: %v", panicked)
		}
	}
	se := &StageError{Level: st.lv.name, Stage: st.idx, Seq: seq, Err: err, Panic: panicked, Stack: stack}
	switch {
	case st.lv.opts.policy.sink != nil:
		if broke := st.lv.sinkBroke.Load(); broke != nil {
			st.stopGraph(broke) // the sink's failure, so that it is the graph's error whichever stage records first
			return
		}
		st.toSink(se)
	case st.lv.opts.policy.skip:
	default:
		st.stopGraph(se)
	}
}

// toSink hands a failure to the level's error sink. A sink that panics or calls
// runtime.Goexit cannot be trusted with the next failure either: it stops the graph, and
// the later failures of every stage it serves stop it too (it is already stopping).
func (st *stage) toSink(se *StageError) {
	returned := false
	defer func() {
		if returned {
			return
		}
		err := fmt.Errorf("error sink called runtime.Goexit (handling %w)", se)
		var stack []byte
		if v := recover(); v != nil {
			err = fmt.Errorf("error sink panicked: %v (handling %w)", v, se)
			stack = debug.Stack()
		}
		broke := &StageError{Level: st.lv.name, Stage: st.idx, Seq: se.Seq, Err: err, Stack: stack}
		if !st.lv.sinkBroke.CompareAndSwap(nil, broke) {
			broke = st.lv.sinkBroke.Load() // another stage's call broke it first
		}
		st.stopGraph(broke)
	}()
	st.lv.opts.policy.sink.fn(se)
	returned = true
}

func (st *stage) stopGraph(err error) {
	g := st.lv.g
	g.setErr(err)
	g.requestStop()
}
