//go:build linux || darwin || freebsd

package main

import (
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/poller"
)

// replierStage is one reply stage: the connections it has replies for, and those whose
// socket would not take all of them, which wait for writability in the stage's own loop
// while the stage goes on serving its other connections.
//
// Waiting in the loop replaced a poll(2) on the one full socket, which held the whole stage
// (every connection it serves) until that client read or the wait timed out. The level runs
// dedicated for it: a shared stage has no loop.
type replierStage struct {
	s          *graphServer
	loop       *poller.Loop
	dirty      []*conn
	waiting    map[int]*conn            // by fd: registered for writability on loop
	check      *poller.Timer            // checks the waiting connections' limits; nil while none wait
	onWritable func(int, poller.Events) // made once: a method value per call would allocate
	// queued is the bytes of output its waiting connections hold. Written by the stage,
	// read by any goroutine (stats, tests).
	queued atomic.Int64
}

// replyLevel is the reply level: stateful, so that each stage finds its loop at Init and
// hands the output still waiting to Stop at End.
func (s *graphServer) replyLevel() flow.StatefulSink[reply, *replierStage] {
	return flow.StatefulSink[reply, *replierStage]{
		Init: func(st *flow.Stage) (*replierStage, error) {
			r := &s.repliers[st.Index()]
			r.s, r.loop = s, st.Loop()
			if r.loop == nil {
				return nil, errors.New("resp: a reply stage has no event loop to wait for writability in")
			}
			r.waiting = make(map[int]*conn)
			r.onWritable = r.writable
			return r, nil
		},
		// The replies of a pipelining client that arrive together leave in one write.
		Batch: (*replierStage).reply,
		End:   (*replierStage).end,
	}
}

func (r *replierStage) reply(b *flow.Batch[reply]) error {
	for _, rp := range b.All() {
		c := rp.c
		if !c.out.add(*rp) {
			continue
		}
		if c.out.buf.len() >= writeEarly {
			r.flush(c)
		} else if !c.out.queued {
			c.out.queued = true
			r.dirty = append(r.dirty, c)
		}
	}
	for i, c := range r.dirty {
		c.out.queued = false
		r.flush(c)
		r.dirty[i] = nil
	}
	r.dirty = r.dirty[:0]
	return nil
}

// writeEarly is how much output a connection gathers in a batch before it is written
// without waiting for the batch's end, so that a batch of large replies for a client that
// does not read cannot pile up far past its output limit before the limit is checked.
const writeEarly = 256 << 10

// flush writes a connection's output, or, if it is waiting for writability (its callback
// writes), checks its limit.
func (r *replierStage) flush(c *conn) {
	if c.out.waiting {
		r.account(c, time.Time{})
		return
	}
	r.write(c)
}

// write writes what a connection has pending until it is all written or the socket is full,
// then ends the connection if its turn has come. A failed write drops the client.
func (r *replierStage) write(c *conn) {
	a := &c.out
	for a.buf.len() > 0 {
		n, err := writeOut(c.fd, a.buf.pending())
		if n > 0 {
			a.wrote(n)
			if a.waiting {
				a.progress = time.Now()
			}
		}
		switch err {
		case nil, unix.EINTR:
		case unix.EAGAIN:
			r.wait(c)
			return
		default:
			r.drop(c)
			return
		}
	}
	a.written()
	r.settle(c)
}

// writable is the callback of a waiting connection's fd.
func (r *replierStage) writable(fd int, _ poller.Events) {
	if c := r.waiting[fd]; c != nil {
		r.write(c)
	}
}

// wait registers a connection whose socket is full for writability, or, if it is
// registered already, checks its limit.
func (r *replierStage) wait(c *conn) {
	a := &c.out
	if !a.waiting {
		if err := r.loop.Add(c.fd, poller.Writable, r.onWritable); err != nil {
			r.drop(c)
			return
		}
		a.waiting, a.progress = true, time.Now()
		r.waiting[c.fd] = c
		if r.check == nil {
			r.check = r.loop.AfterFunc(r.s.checkEvery(), r.checkLimits)
		}
	}
	r.account(c, time.Time{})
}

// account updates the stage's count of a waiting connection's output and drops the client
// if the output passes its limit. A zero now is read from the clock when needed.
func (r *replierStage) account(c *conn, now time.Time) {
	a := &c.out
	n := a.buf.len()
	r.queued.Add(int64(n - a.counted))
	a.counted = n
	lim := r.s.cfg.outLimit
	if lim.soft > 0 && n > lim.soft && now.IsZero() {
		now = time.Now()
	}
	var over bool
	if over, a.softSince = lim.over(n, a.softSince, now); over {
		r.drop(c)
	}
}

// checkLimits runs while connections wait: it drops those past their soft limit's time or
// silent for the write timeout.
func (r *replierStage) checkLimits() {
	now := time.Now()
	for _, c := range r.waiting {
		if wt := r.s.cfg.writeTimeout; wt > 0 && now.Sub(c.out.progress) >= wt {
			r.drop(c)
			continue
		}
		r.account(c, now)
	}
	r.check = nil
	if len(r.waiting) > 0 {
		r.check = r.loop.AfterFunc(r.s.checkEvery(), r.checkLimits)
	}
}

// checkEvery is how often the limits of waiting connections are checked: often enough
// that a limit of d is enforced within about d*5/4.
func (s *graphServer) checkEvery() time.Duration {
	d := time.Second
	for _, t := range []time.Duration{s.cfg.writeTimeout, s.cfg.outLimit.softFor} {
		if t > 0 {
			d = min(d, t/4)
		}
	}
	return max(d, 10*time.Millisecond)
}

// drop ends a connection at once: its output is thrown away and its buffer released, and
// it is shut down, so its listener sees end of file and its last request comes here to
// close it, with a reset (resetOnClose). dropped tells the listener and the parser to read
// and execute nothing more of it. Other connections are not affected.
func (r *replierStage) drop(c *conn) {
	a := &c.out
	a.discard()
	c.dropped.Store(true)
	if !a.shutDone {
		a.shutDone = true
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	r.settle(c)
}

// settle runs when a connection has nothing pending: it stops waiting for writability, and
// shuts the connection down or closes it if its turn has come.
func (r *replierStage) settle(c *conn) {
	a := &c.out
	if a.waiting {
		_ = r.loop.Remove(c.fd)
		delete(r.waiting, c.fd)
		r.queued.Add(int64(-a.counted))
		a.waiting, a.counted, a.softSince = false, 0, time.Time{}
	}
	if a.shutdown && !a.shutDone {
		a.shutDone = true
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	if a.last {
		if c.dropped.Load() && (a.broken || unreadInput(c.fd)) {
			resetOnClose(c.fd)
		}
		unix.Close(c.fd)
		r.s.conns.remove(c)
		c.out = assembler{}
		c.fd = -1
	}
}

// end runs once the stage's input is drained: the connections still waiting keep their
// output, which Stop writes out while it closes them (closeGracefully).
func (r *replierStage) end() error {
	for fd, c := range r.waiting {
		_ = r.loop.Remove(fd)
		r.queued.Add(int64(-c.out.counted))
		c.out.waiting, c.out.counted = false, 0
	}
	clear(r.waiting)
	if r.check != nil {
		r.check.Stop()
		r.check = nil
	}
	return nil
}
