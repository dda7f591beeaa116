//go:build linux || darwin || freebsd

package main

import (
	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/flow"
)

// replierStage is one reply stage: it assembles each connection's replies and writes them
// while the socket takes them. A connection whose socket is full goes to the stage's
// outWaiter, a goroutine with an event loop of its own that waits for writability, checks
// the output limits and writes, while the stage goes on serving its other connections; the
// waiter hands the connection back once everything is written.
//
// The level runs in the graph's mode (Auto): on a host with fewer cores than stages it is a
// shared stage, which a worker wakes without a system call. When the stage itself waited
// for writability in its own loop, the level had to run dedicated, and every batch of
// replies cost the worker a write to the stage's wake fd and a kernel thread wake; before
// that, the stage blocked in poll(2) on one full socket, holding every connection it
// serves until that client read or the wait timed out.
type replierStage struct {
	s     *graphServer
	dirty []*conn
	w     *outWaiter
}

// replyLevel is the reply level: stateful, so that each stage starts its waiter at Init and
// hands it the output still waiting to Stop at End.
func (s *graphServer) replyLevel() flow.StatefulSink[reply, *replierStage] {
	return flow.StatefulSink[reply, *replierStage]{
		Init: func(st *flow.Stage) (*replierStage, error) {
			w, err := newOutWaiter(s)
			if err != nil {
				return nil, err
			}
			r := &s.repliers[st.Index()]
			r.s, r.w = s, w
			return r, nil
		},
		// The replies to one read of a pipelining client leave in one write.
		Batch: (*replierStage).reply,
		End:   (*replierStage).end,
	}
}

// reply assembles a batch of replies and writes, at its end, the connections whose
// output answers a whole read of the client (assembler.due), or that are to be shut down
// or closed. A connection whose read still has replies on other workers' rings stays
// listed for a later batch; the read's last reply always comes, so nothing waits longer.
func (r *replierStage) reply(b *flow.Batch[reply]) error {
	for _, rp := range b.All() {
		c := rp.c
		if c.slow.on.Load() && r.w.pass(c, *rp) {
			continue
		}
		if !c.out.add(*rp) {
			continue
		}
		if c.out.buf.len() >= writeEarly {
			r.write(c)
		} else if !c.slow.listed {
			c.slow.listed = true
			r.dirty = append(r.dirty, c)
		}
	}
	keep := r.dirty[:0]
	for _, c := range r.dirty {
		if c.slow.on.Load() { // it went to the waiter during the batch, output and all
			c.slow.listed = false
			continue
		}
		if a := &c.out; a.dirty && !a.due && !a.last && !a.shutdown {
			keep = append(keep, c) // replies to the rest of the client's read are on their way
			continue
		}
		c.slow.listed = false
		r.write(c)
	}
	clear(r.dirty[len(keep):])
	r.dirty = keep
	return nil
}

// writeEarly is how much output a connection gathers in a batch before it is written
// without waiting for the batch's end, so that a batch of large replies for a client that
// does not read cannot pile up far past its output limit before the limit is checked.
const writeEarly = 256 << 10

// write writes what a connection has pending until it is all written or the socket is full,
// then ends the connection if its turn has come. A full socket hands the connection to the
// waiter; a failed write drops the client.
func (r *replierStage) write(c *conn) {
	switch _, err := writePending(c); err {
	case nil:
		r.s.settle(c)
	case unix.EAGAIN:
		r.w.take(c)
	default:
		r.s.drop(c)
		r.s.settle(c)
	}
}

// writePending writes a connection's pending output until it is all written (nil), the
// socket is full (unix.EAGAIN) or a write fails (its error). It reports whether any of it
// went out. The caller owns c.out.
func writePending(c *conn) (wrote bool, err error) {
	a := &c.out
	for a.buf.len() > 0 {
		n, err := writeOut(c.fd, a.buf.pending())
		if n > 0 {
			a.wrote(n)
			wrote = true
		}
		if err != nil && err != unix.EINTR {
			return wrote, err
		}
	}
	a.written()
	return wrote, nil
}

// end runs once the stage's input is drained: the waiter stops, leaving the output of the
// connections it held to Stop, which writes it out while it closes them (closeGracefully).
func (r *replierStage) end() error {
	r.w.close()
	r.dirty = nil // Stop writes what any listed connection still holds
	return nil
}

// drop ends a connection at once: its output is thrown away and its buffer released, and
// it is shut down, so its listener sees end of file and its last request comes to the
// replier to close it, with a reset (resetOnClose). dropped tells the listener and the
// parser to read and execute nothing more of it. Other connections are not affected. The
// caller owns c.out (the stage, or the waiter while it holds the connection).
func (s *graphServer) drop(c *conn) {
	a := &c.out
	a.discard()
	c.dropped.Store(true)
	if !a.shutDone {
		a.shutDone = true
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
}

// settle runs when a connection has nothing pending: it shuts the connection down or
// closes it if its turn has come. The caller owns c.out.
func (s *graphServer) settle(c *conn) {
	a := &c.out
	if a.shutdown && !a.shutDone {
		a.shutDone = true
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	if a.last {
		if c.dropped.Load() && (a.broken || unreadInput(c.fd)) {
			resetOnClose(c.fd)
		}
		unix.Close(c.fd)
		s.conns.remove(c)
		c.out = assembler{}
		c.fd = -1
	}
}
