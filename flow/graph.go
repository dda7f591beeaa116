package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Graph states; they only move forward.
const (
	stateBuilding int32 = iota
	stateRunning
	stateDone
)

// A Graph is a set of levels built with the typed constructors (Input, Source, and the
// methods of Stream), then compiled and run by Start. A graph runs once. The zero value is
// not usable; call New.
type Graph struct {
	opts   graphOptions
	mu     sync.Mutex // guards levels and buildErrs while building
	levels []*level
	// buildErrs holds misuse seen while building (a stream of another graph, a nil
	// function); Start reports it with every other problem.
	buildErrs []error

	state    atomic.Int32
	stopping atomic.Bool // set once by requestStop; read by sources and publishers
	built    atomic.Bool // the rings and stages exist; set once by Start
	launched atomic.Bool // the stage goroutines are starting: stages may call Stop and Wait
	wg       sync.WaitGroup
	done     chan struct{} // closed when every stage has ended and every loop is closed
	ctxStop  func() bool   // releases the context.AfterFunc registration
	held     held          // the GOMAXPROCS raise and the cores this graph holds while it runs

	errMu sync.Mutex
	err   error // the first error: a failing stage under StopGraph, or a start failure

	completion sync.Mutex // guards the checkpoints' sampled lists (complete.go)
}

// New returns an empty graph.
func New(opts ...GraphOption) *Graph {
	g := &Graph{done: make(chan struct{})}
	g.opts.mode = defaultGraphMode
	for _, o := range opts {
		o(&g.opts)
	}
	return g
}

// addLevel appends a level; it panics if the graph has already started, because a running
// graph's topology is fixed.
func (g *Graph) addLevel(kind levelKind, n int, opts []Option, in []edge, r route, rl roles) *level {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state.Load() != stateBuilding {
		panic("flow: levels must be added before Start")
	}
	lv := &level{g: g, id: len(g.levels), kind: kind, n: n, in: in, route: r, roles: rl,
		opts: defaultLevelOptions()}
	if g.opts.spinSet {
		lv.opts.spin = g.opts.spin
	}
	for _, o := range opts {
		o(&lv.opts)
	}
	lv.name = lv.opts.name
	if lv.name == "" {
		lv.name = fmt.Sprintf("%s#%d", kind, lv.id)
	}
	for _, e := range in {
		e.from.readBy++
	}
	g.levels = append(g.levels, lv)
	return lv
}

func (g *Graph) misuse(format string, args ...any) {
	g.mu.Lock()
	g.buildErrs = append(g.buildErrs, fmt.Errorf(format, args...))
	g.mu.Unlock()
}

// Start validates the graph, reporting every problem at once in one error (a graph with no
// level is one), then builds its rings and stages and starts them. Stages are running when Start returns. Cancelling ctx
// stops the graph as Stop does. A second Start returns ErrStarted.
func (g *Graph) Start(ctx context.Context) error {
	g.mu.Lock()
	if !g.state.CompareAndSwap(stateBuilding, stateRunning) {
		g.mu.Unlock()
		return ErrStarted
	}
	if err := g.compile(); err != nil {
		g.setErr(err)
		g.stopping.Store(true)
		g.state.Store(stateDone)
		close(g.done)
		g.mu.Unlock()
		return err
	}
	// Publishers see the input rings only now that every reader is attached: a claim
	// before that would freeze a ring that gates nothing and lose its entry.
	for _, lv := range g.levels {
		if lv.expose != nil {
			lv.expose()
		}
	}
	// Registered before finish can run, which releases it.
	g.ctxStop = context.AfterFunc(ctx, func() {
		if !g.stopping.Load() {
			g.setErr(ctx.Err()) // the cancellation is why the graph stopped
		}
		g.requestStop()
	})
	g.held = g.reserve()
	ready := make(chan error, g.stageCount())
	// Before the first stage goroutine exists: a stage that calls Stop or Wait at once (a
	// source's first statement, an Init) must be known as one (insideStage), or it would
	// wait for its own end.
	g.launched.Store(true)
	for _, lv := range g.levels {
		for _, st := range lv.stages {
			g.wg.Add(1)
			go st.run(ready)
		}
	}
	// A Stop that came while the graph was being built found nothing to close; now that
	// the rings exist, close them. Either this or requestStop does it (both are idempotent):
	// requestStop stores stopping before it loads built, and this stores built before it
	// loads stopping.
	g.built.Store(true)
	if g.stopping.Load() {
		g.shutdownInputs()
	}
	// The levels and stages are fixed from here on. Unlock before waiting for the stages:
	// an Init (which runs before its stage is ready) or a stage's first batch may call
	// Stats, String or DOT, which take the lock; holding it here made such an Init wait for
	// Start, and Start for the Init, forever.
	g.mu.Unlock()
	var errs []error
	for range g.stageCount() {
		if err := <-ready; err != nil {
			errs = append(errs, err)
		}
	}
	go g.finish()
	if len(errs) > 0 {
		err := errors.Join(errs...)
		g.setErr(err)
		g.requestStop()
		<-g.done
		return err
	}
	return nil
}

func (g *Graph) stageCount() int {
	n := 0
	for _, lv := range g.levels {
		n += len(lv.stages)
	}
	return n
}

// requestStop begins a drain without waiting for it: external inputs close (blocked
// publishers return ErrStopped), sources are told to stop, and every stage ends once its
// inputs are closed and drained. Safe from any goroutine, any number of times.
func (g *Graph) requestStop() {
	if !g.stopping.CompareAndSwap(false, true) {
		return
	}
	if g.built.Load() {
		g.shutdownInputs()
	}
}

// shutdownInputs closes the external inputs and wakes the sources so they see the stop.
// Both are idempotent; Start calls it for a stop that came while it was building.
func (g *Graph) shutdownInputs() {
	for _, lv := range g.levels {
		switch lv.kind {
		case kindInput:
			for _, r := range lv.rings {
				r.Close()
			}
		case kindSource:
			for _, st := range lv.stages {
				st.waiter.Wake()
			}
		}
	}
}

// finish waits for every stage, then releases the loops. Loops close only after every stage
// has ended because a stage's loop is also the waiter that its neighbours wake.
func (g *Graph) finish() {
	g.wg.Wait()
	unreserve(g.held)
	for _, lv := range g.levels {
		for _, st := range lv.stages {
			if st.loop != nil {
				st.loop.Close()
			}
		}
	}
	g.stopping.Store(true)
	g.ctxStop()
	g.state.Store(stateDone)
	close(g.done)
}

// Stop drains the graph and waits for it: external publishers and sources stop first, every
// entry already committed flows through the rest of the graph, every stage is joined and
// every event loop closed. It returns the graph's first error, like Wait.
//
// Called from a stage's own function, Stop would wait for that stage to end; it begins the
// drain and returns ErrInsideStage instead. RequestStop is the way to stop from inside.
func (g *Graph) Stop() error {
	if g.state.Load() == stateBuilding {
		return ErrNotStarted
	}
	g.requestStop()
	if g.insideStage() {
		return ErrInsideStage
	}
	<-g.done
	return g.Err()
}

// RequestStop begins the same drain as Stop without waiting for it. It is safe from any
// goroutine, a stage's function included, and does nothing before Start.
func (g *Graph) RequestStop() {
	if g.state.Load() != stateBuilding {
		g.requestStop()
	}
}

// Wait blocks until the graph has stopped (by Stop, by its context, by a failure under
// StopGraph, or because every source finished) and returns its first error: ctx.Err() when
// the cancellation of Start's context stopped it. Called from a stage's own function it
// returns ErrInsideStage at once, since the graph cannot stop while the caller runs.
func (g *Graph) Wait() error {
	if g.state.Load() == stateBuilding {
		return ErrNotStarted
	}
	if g.insideStage() {
		return ErrInsideStage
	}
	<-g.done
	return g.Err()
}

// insideStage reports whether the caller is one of the graph's stage goroutines. It runs
// only on the rare paths of Stop and Wait, and only while the graph runs.
func (g *Graph) insideStage() bool {
	if !g.launched.Load() {
		return false // no stage goroutine exists yet
	}
	select {
	case <-g.done:
		return false
	default:
	}
	id := goid()
	for _, lv := range g.levels {
		for _, st := range lv.stages {
			if st.gid.Load() == id {
				return true
			}
		}
	}
	return false
}

// Done is closed when the graph has stopped.
func (g *Graph) Done() <-chan struct{} { return g.done }

// Err returns the graph's first error so far, or nil.
func (g *Graph) Err() error {
	g.errMu.Lock()
	defer g.errMu.Unlock()
	return g.err
}

func (g *Graph) setErr(err error) {
	g.errMu.Lock()
	if g.err == nil {
		g.err = err
	}
	g.errMu.Unlock()
}
