package flow

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/loopyring/loopyring/ring"
)

// compile validates the graph, then builds its loops, rings, readers and stage ports. On
// failure it releases whatever it built and returns every problem found, joined.
func (g *Graph) compile() error {
	// Placement is checked alongside the structure, so that one Start reports both.
	verr := g.validate()
	cpus, perr := g.plan()
	var merr error
	if perr == nil {
		merr = g.resolveModes(cpus)
	}
	if err := errors.Join(verr, perr, merr); err != nil {
		return err
	}
	if err := g.build(cpus); err != nil {
		g.release()
		return err
	}
	return nil
}

// release undoes a build that failed part-way: it closes whatever rings and loops exist.
// Stages that were never made are nil; no stage has started.
func (g *Graph) release() {
	for _, lv := range g.levels {
		for _, r := range lv.rings {
			if r != nil {
				r.Close()
			}
		}
		for _, st := range lv.stages {
			if st != nil && st.loop != nil {
				st.loop.Close()
			}
		}
		lv.stages = nil
		lv.rings = nil
	}
}

// validate checks the graph's structure and options without allocating rings.
func (g *Graph) validate() error {
	errs := append([]error(nil), g.buildErrs...)
	if g.opts.spin < 0 {
		errs = append(errs, fmt.Errorf("flow: graph spin %v is negative", g.opts.spin))
	}
	if len(g.levels) == 0 {
		errs = append(errs, errors.New("flow: the graph has no levels"))
	}
	names := make(map[string]*level, len(g.levels))
	for _, lv := range g.levels {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("flow: level %q: "+format, append([]any{lv.name}, args...)...))
		}
		if prev, dup := names[lv.name]; dup {
			bad("name already used by level #%d", prev.id)
		}
		names[lv.name] = lv
		switch {
		case lv.n < 1:
			bad("%d stages; a level needs at least 1", lv.n)
		case lv.n > MaxStages:
			bad("%d stages; a level may have at most MaxStages (%d)", lv.n, MaxStages)
		}
		for _, err := range lv.opts.errs {
			bad("%v", err)
		}
		// ring.New is the one authority on capacities; a ring of empty structs costs nothing
		// to build and throw away. A level that owns no ring (a sink, a phase) has no use
		// for a capacity, but a bad one is still a mistake worth reporting.
		if _, err := ring.New[struct{}](lv.opts.capacity); err != nil {
			bad("%v", err)
		}
		if lv.kind.ownsRings() {
			if lv.readBy == 0 {
				bad("output is never read; end the chain with Sink")
			}
		}
		if (lv.kind == kindProcess || lv.kind == kindPhase || lv.kind == kindSink) && len(lv.in) == 0 {
			bad("input is fed by nothing")
		}
		if lv.kind == kindPhase && lv.route != routeShared {
			bad("a phase sees every entry of its rings; %s routing does not apply", lv.route)
		}
	}
	// No cycle check: the typed builder attaches a level only to levels that already exist,
	// so the levels are in topological order by construction (a stage that publishes into an
	// Input of its own graph is the one way round it; see the package doc).
	return errors.Join(errs...)
}

// build creates a loop per stage, the rings of every ring-owning level, then, in creation
// order (which is a topological order), every reader and port. Readers must all exist before
// the first claim, which is why nothing runs until build is complete.
func (g *Graph) build(cpus map[*level][]int) error {
	broke := make(map[*errorSink]*atomic.Pointer[StageError])
	for _, lv := range g.levels {
		if s := lv.opts.policy.sink; s != nil {
			if broke[s] == nil {
				broke[s] = new(atomic.Pointer[StageError])
			}
			lv.sinkBroke = broke[s]
		}
		if lv.kind == kindInput {
			continue
		}
		lv.stages = make([]*stage, lv.n)
		for i := range lv.stages {
			st := &stage{lv: lv, idx: i, mode: lv.mode, cpu: cpus[lv][i], payEvery: max(lv.opts.capacity/4, 1)}
			st.ready = st.inputReady
			st.h.st = st
			if err := st.newWaiter(); err != nil {
				return fmt.Errorf("flow: level %q stage %d: %w", lv.name, i, err)
			}
			lv.stages[i] = st
		}
	}
	for _, lv := range g.levels {
		if !lv.kind.ownsRings() {
			continue
		}
		count := lv.n
		if lv.kind == kindInput {
			count = 1
		}
		lv.rings = make([]ringHandle, count)
		lv.readers = make([][]reader, count)
		for j := range lv.rings {
			var pw ring.Waiter // nil: the ring's default phased waiter, for external publishers
			switch lv.kind {
			case kindProcess:
				// A shared processing stage blocked on a full output ring sleeps as it does
				// idle. A dedicated one parks instead: its callbacks (timers, fds) may emit,
				// and a claim made in a callback must not wait in the loop that dispatches it
				// (the loop refuses), nor may a callback run, and emit, while the stage's own
				// claim waits. Its loop's callbacks wait until the ring has room.
				pw = lv.stages[j].waiter
				if lv.stages[j].mode == Dedicated {
					pw = ring.NewParker()
				}
			case kindSource:
				// A source may publish from a callback its loop is dispatching, and a
				// publish must not re-enter that loop; it parks at once instead (yielding
				// a locked goroutine costs a thread hand-off per yield).
				pw = ring.NewParker()
			}
			r, err := lv.newRing(lv.opts.capacity, lv.kind == kindInput, pw)
			if err != nil {
				return fmt.Errorf("flow: level %q: %w", lv.name, err)
			}
			lv.rings[j] = r
		}
		for _, st := range lv.stages {
			st.ring = lv.rings[st.idx]
			st.out = lv.bind(st)
		}
	}
	for _, lv := range g.levels {
		if lv.prepare != nil {
			for _, st := range lv.stages {
				lv.prepare(st)
			}
		}
		if err := g.attach(lv); err != nil {
			return err
		}
	}
	return nil
}

// attach creates lv's readers on every upstream ring and the stage ports that process them.
func (g *Graph) attach(lv *level) error {
	if lv.kind == kindPhase {
		lv.phaseRd = make([][]*ring.Reader, len(lv.in))
	}
	for ei, e := range lv.in {
		if lv.kind == kindPhase {
			lv.phaseRd[ei] = make([]*ring.Reader, len(e.from.rings))
		}
		for j, src := range e.from.rings {
			var after []*ring.Reader
			for _, ph := range e.after {
				after = append(after, ph.phaseReader(e.from, j))
			}
			readers := lv.stages
			if lv.kind == kindPhase {
				// A phase owns each ring through exactly one stage: ring j to stage j mod n.
				readers = lv.stages[j%lv.n : j%lv.n+1]
			}
			for _, st := range readers {
				rd, err := src.NewReader(ring.After(after...), ring.ReaderWaiter(st.waiter), ring.MaxBatch(lv.opts.maxBatch))
				if err != nil {
					return fmt.Errorf("flow: level %q reading %q: %w", lv.name, e.from.name, err)
				}
				fn, whole, err := lv.port(st, src)
				if err != nil {
					return fmt.Errorf("flow: level %q reading %q: %w", lv.name, e.from.name, err)
				}
				ck := new(checkpoint)
				st.ports = append(st.ports, port{r: rd, run: fn, whole: whole, ck: ck})
				next := reader{ck: ck}
				if lv.kind == kindProcess {
					next.next, next.ring = lv, st.idx
				}
				e.from.readers[j] = append(e.from.readers[j], next)
				if lv.kind == kindPhase {
					lv.phaseRd[ei][j] = rd
				}
			}
		}
	}
	return nil
}

// phaseReader returns the reader through which phase ph reads ring j of base.
func (ph *level) phaseReader(base *level, j int) *ring.Reader {
	for ei, e := range ph.in {
		if e.from == base {
			return ph.phaseRd[ei][j]
		}
	}
	panic("flow: phase " + ph.name + " does not read " + base.name) // excluded by the builder
}
