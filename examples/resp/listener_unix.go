//go:build linux || darwin || freebsd

package main

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/poller"
)

// chunk is what a listener hands to a parser: bytes read from a connection, or its end.
type chunk struct {
	c   *conn
	buf *[]byte // from the server's readPool; the parser puts it back
	n   int
	eof bool
}

// readsPerEvent bounds the reads of one connection per readiness callback, so that one
// client that never stops sending cannot starve the others on the same listener.
const readsPerEvent = 4

// listenerStage is one listen stage: it accepts on the shared listening socket (every
// listener stage polls it; the kernel hands each connection to one accept) and reads the
// connections it accepted, all in its own event loop.
type listenerStage struct {
	s     *graphServer
	ss    *flow.SourceStage[chunk]
	loop  *poller.Loop
	conns map[int]*conn // by fd: the connections this stage reads
}

// listen is the source function of the listen level.
func (s *graphServer) listen(ss *flow.SourceStage[chunk]) error {
	l := &listenerStage{s: s, ss: ss, loop: ss.Loop(), conns: make(map[int]*conn)}
	if err := l.loop.Add(s.lfd, poller.Readable, l.onAccept); err != nil {
		return err
	}
	ss.OnStop(func() {
		_ = l.loop.Remove(s.lfd)
		for fd := range l.conns {
			_ = l.loop.Remove(fd) // the server closes the fds once the graph has drained
		}
	})
	return nil
}

func (l *listenerStage) onAccept(int, poller.Events) {
	for range 64 {
		fd, err := accept(l.s.lfd)
		switch err {
		case nil:
		case unix.EINTR, unix.ECONNABORTED:
			continue
		case unix.EMFILE, unix.ENFILE:
			// Out of descriptors: stop polling the listening socket for a moment, or the
			// level-triggered loop would spin on a connection nobody can accept.
			_ = l.loop.Modify(l.s.lfd, 0)
			l.loop.AfterFunc(100*time.Millisecond, func() { _ = l.loop.Modify(l.s.lfd, poller.Readable) })
			return
		default:
			return // EAGAIN: nothing left; anything else: the socket is closing
		}
		if l.s.cfg.maxClients > 0 && l.s.conns.len() >= l.s.cfg.maxClients {
			_, _ = unix.Write(fd, []byte("-ERR max number of clients reached\r\n"))
			unix.Close(fd)
			continue
		}
		c := l.s.conns.add(fd)
		if err := l.loop.Add(fd, poller.Readable, l.reader(c)); err != nil {
			l.s.conns.remove(c)
			unix.Close(fd)
			continue
		}
		l.conns[fd] = c
	}
}

func (l *listenerStage) reader(c *conn) func(int, poller.Events) {
	return func(fd int, _ poller.Events) {
		if c.dropped.Load() {
			l.eof(fd, c) // the replier dropped the client: what it still sends is not read
			return
		}
		for range readsPerEvent {
			bp := l.s.reads.get()
			n, err := unix.Read(fd, *bp)
			if n > 0 {
				if l.ss.Emit(chunk{c: c, buf: bp, n: n}) != nil {
					l.s.reads.put(bp) // stopping: the server closes the connection after the drain
					return
				}
				if n < len(*bp) {
					return // the socket is very likely drained; readiness says if not
				}
				continue
			}
			l.s.reads.put(bp)
			switch err {
			case unix.EAGAIN:
				return
			case unix.EINTR:
				continue
			}
			l.eof(fd, c)
			return
		}
	}
}

// eof ends a connection's stream: the fd is forgotten here, and the end of the stream
// travels behind the connection's requests to the replier, which closes the fd when all of
// them have been answered.
func (l *listenerStage) eof(fd int, c *conn) {
	_ = l.loop.Remove(fd)
	delete(l.conns, fd)
	_ = l.ss.Emit(chunk{c: c, eof: true})
}
