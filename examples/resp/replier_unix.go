//go:build linux || darwin || freebsd

package main

import (
	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/flow"
)

// replierStage is one reply stage's list of connections with something to write.
type replierStage struct {
	dirty []*conn
}

// reply is the reply level. It takes a whole batch so that the replies of a pipelining
// client that arrive together leave in one write.
func (s *graphServer) reply(b *flow.Batch[reply]) error {
	rs := &s.repliers[b.Stage().Index()]
	for i := range b.Len() {
		r := b.At(i)
		c := r.c
		if c.out.add(*r) && !c.out.queued {
			c.out.queued = true
			rs.dirty = append(rs.dirty, c)
		}
	}
	for i, c := range rs.dirty {
		c.out.queued = false
		s.flush(c)
		rs.dirty[i] = nil
	}
	rs.dirty = rs.dirty[:0]
	return nil
}

// flush writes what a connection has ready, then shuts it down or closes it if its turn
// has come. A failed write drops the client: it is shut down, so its listener sees end of
// file and its last request comes here to close it; other connections are not affected.
func (s *graphServer) flush(c *conn) {
	a := &c.out
	if len(a.buf) > 0 && !a.broken {
		if err := writeFull(c.fd, a.buf, s.cfg.writeTimeout); err != nil {
			a.broken, a.shutdown = true, true
		}
	}
	a.written()
	if a.shutdown && !a.shutDone {
		a.shutDone = true
		_ = unix.Shutdown(c.fd, unix.SHUT_RDWR)
	}
	if a.last {
		unix.Close(c.fd)
		s.conns.remove(c)
		c.out = assembler{}
		c.fd = -1
	}
}
