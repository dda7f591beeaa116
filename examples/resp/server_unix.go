//go:build linux || darwin || freebsd

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/flow"
)

// graphServer runs the four levels: listen (accept and read), parse, work (one shard set
// per stage) and reply (reassemble and write).
type graphServer struct {
	cfg      config
	g        *flow.Graph
	lfd      int
	addr     *net.TCPAddr
	rt       *router
	stores   []*store
	conns    registry
	reads    *readPool
	parsers  []parserStage
	repliers []replierStage // each reply stage's state, here so that tests can read its gauges
	stopOnce sync.Once
	stopErr  error
}

// parserStage is one parse stage's reusable state.
type parserStage struct {
	sc   scratch
	em   *flow.Emitter[request]
	emit func(request) // made once: a closure per call would allocate
	last []request     // the parts of the latest request, not emitted yet (hold)
}

// hold emits the request before r and keeps r back, so that the last request of a read
// can be marked before it leaves (release). Parts of one command stay together.
func (p *parserStage) hold(r request) {
	if len(p.last) > 0 && (p.last[0].seq != r.seq || p.last[0].c != r.c) {
		p.emitLast()
	}
	p.last = append(p.last, r)
}

// release marks the read's last request, every part of it, and emits it: its reply lets
// the replier write the read's replies in one go.
func (p *parserStage) release() {
	for i := range p.last {
		p.last[i].flush = true
	}
	p.emitLast()
}

func (p *parserStage) emitLast() {
	for i := range p.last {
		p.em.Emit(p.last[i])
		p.last[i] = request{} // the ring slot holds it now; drop this copy's references
	}
	p.last = p.last[:0]
}

func startGraph(cfg config) (server, error) {
	if cfg.listeners < 1 || cfg.parsers < 1 || cfg.workers < 1 || cfg.repliers < 1 {
		return nil, errors.New("resp: every level needs at least one stage")
	}
	lfd, addr, err := listenTCP(cfg.addr)
	if err != nil {
		return nil, err
	}
	s := &graphServer{cfg: cfg, lfd: lfd, addr: addr, rt: newRouter(cfg.lim, cfg.workers*shardsPerWorker, true), reads: newReadPool(maxPooledReads)}
	s.stores = make([]*store, s.rt.shards)
	for i := range s.stores {
		s.stores[i] = newStore(cfg.lim.maxBulk)
	}
	s.parsers = make([]parserStage, cfg.parsers)
	for i := range s.parsers {
		p := &s.parsers[i]
		p.emit = p.hold
	}
	s.repliers = make([]replierStage, cfg.repliers)

	s.g = flow.New(flow.Placement(cfg.placement, cfg.cpus...))
	capacity := flow.Capacity(cfg.capacity)
	// A ring keeps what its released slots point to until they are written again, so the
	// listen level's ring, whose entries hold 16 KiB read buffers, is no longer than the
	// read pool: the buffers a burst leaves behind are then the pool's, within its bound,
	// rather than as many as the ring has slots (8192 slots: 128 MiB).
	flow.Source(s.g, cfg.listeners, s.listen, flow.Name("listen"), flow.Capacity(min(cfg.capacity, maxPooledReads))).
		KeyBy(func(ch chunk) uint64 { return ch.c.id }).
		Expand[request](cfg.parsers, s.parse, flow.Name("parse"), capacity).
		PartitionBy(func(r request) int { return int(r.shard) }).
		Stateful(cfg.workers, s.workLevel(), flow.Name("work"), capacity).
		KeyBy(func(r reply) uint64 { return r.c.id }).
		StatefulSink(cfg.repliers, s.replyLevel(), flow.Name("reply"))
	if err := s.g.Start(context.Background()); err != nil {
		unix.Close(lfd)
		return nil, fmt.Errorf("resp: start graph: %w", err)
	}
	return s, nil
}

func (s *graphServer) Addr() string { return s.addr.String() }

// Stop drains the graph (every chunk already read is parsed, executed and answered), then
// closes the listening socket and the connections that are still open, writing out the
// replies their sockets had not taken yet and letting each client read every reply first
// (closeGracefully).
func (s *graphServer) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.g.Stop() // the reply stages have ended: their connections are ours
		unix.Close(s.lfd)
		var cs []closing
		for _, c := range s.conns.drain() {
			cs = append(cs, closing{fd: c.fd, out: c.out.buf})
		}
		closeGracefully(cs, stopQuiet, stopLinger, s.cfg.writeTimeout)
	})
	return s.stopErr
}

// How long Stop keeps reading (and dropping) what clients still send once their replies are
// written: until they are quiet for stopQuiet, at most stopLinger after the last reply.
const (
	stopQuiet  = 50 * time.Millisecond
	stopLinger = time.Second
)

// parse is the parse level: it turns a connection's bytes into requests, one per shard part.
func (s *graphServer) parse(ch chunk, e *flow.Emitter[request]) {
	p := &s.parsers[e.Stage().Index()]
	p.em = e
	if len(p.last) > 0 {
		p.release() // the call before panicked, under an error policy that goes on
	}
	if ch.eof {
		ch.c.parse.end(ch.c, s.rt, &p.sc, p.emit)
		p.release()
		return
	}
	ch.c.parse.feed(ch.c, (*ch.buf)[:ch.n], s.rt, &p.sc, p.emit)
	p.release()
	s.reads.put(ch.buf)
}

// workerStage is one work stage: it runs requests on the shards it owns, which no other
// stage touches, in the order that makes commands spanning shards atomic (order.go).
type workerStage struct {
	order shardOrder
	em    *flow.Emitter[reply] // the emitter of the call in progress
	cur   request              // the request of the call in progress: a parameter's address would escape
	run   func(*request)       // made once: a closure per call would allocate
}

// workLevel is the worker level: stateful, for the requests each stage holds back.
func (s *graphServer) workLevel() flow.Stateful[request, *workerStage, reply] {
	return flow.Stateful[request, *workerStage, reply]{
		Init: func(*flow.Stage, *flow.Emitter[reply]) (*workerStage, error) {
			w := &workerStage{order: newShardOrder()}
			w.run = func(r *request) { w.em.Emit(execute(s.stores[r.shard], r)) }
			return w, nil
		},
		Each: func(w *workerStage, r request, e *flow.Emitter[reply]) error {
			w.em, w.cur = e, r
			w.order.add(&w.cur, w.run)
			return nil
		},
		End: func(w *workerStage, _ *flow.Emitter[reply]) error {
			if n := w.order.waiting(); n > 0 {
				// Every part stamped has been published before the drain ends, so a held
				// request here means a number was taken and its part lost.
				return fmt.Errorf("resp: %d requests still wait for an earlier part of a multi-shard command", n)
			}
			return nil
		},
	}
}
