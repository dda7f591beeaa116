package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// conn is one client connection. Its fields are split by owner: the parser stage that the
// connection's id selects owns parse, the replier stage it selects owns out (or that stage's
// waiter, while the socket is full: see handoff); both are reached only through ring
// entries, whose publication orders their accesses.
//
// The fd's lifetime: the listener stage that accepted it reads it and, on end of file or an
// error, removes it from its loop and sends an end-of-stream chunk. The parser turns that
// into the connection's last request, and the replier closes the fd only when that request's
// place comes in the connection's order. So the fd is closed once, after every write for it,
// by whoever owns the connection's output (its reply stage, or that stage's waiter while it
// holds the connection: the one that writes), and after the reading stage has forgotten it:
// no stage can touch an fd number that the kernel has handed to a newer connection. A replier that must
// end a connection early (QUIT, a protocol error, a dead client) calls shutdown, which keeps
// the fd number allocated and makes the reader see end of file, so the same path closes it.
// A generation number or a refcount was the alternative; the in-band last request needs
// neither, because ring order already says when nobody can hold the fd any more.
type conn struct {
	id    uint64
	fd    int // -1 in goroutine mode
	parse connParser
	out   assembler
	// dropped is set when the server ends the connection for a reason of its own: by the
	// parser on a protocol error, by the replier (or its waiter) on a failed write or output
	// past its limit. The listener then stops reading the connection, the parser stops
	// executing what it sent, and the replier closes it with a reset rather than a FIN.
	dropped atomic.Bool
	slow    handoff // the graph's reply stage and its waiter (outwaiter_unix.go)
}

// handoff is what the reply stage and its waiter share about a connection (graph mode).
// While on is set the waiter owns the connection's assembler (c.out); the stage passes it
// the connection's replies under mu instead of assembling them. Only the stage sets on,
// and only the waiter clears it, under mu and with no reply passed and not yet taken, so
// no reply is stranded between the two.
type handoff struct {
	on      atomic.Bool
	mu      sync.Mutex
	replies []reply // passed by the stage while on, in order; taken by the waiter

	// The stage's own.
	listed bool // in the stage's list of connections to write at the end of the batch

	// The waiter's own.
	kicked    bool      // in the waiter's inbox (guarded by the waiter's mu)
	spare     []reply   // the waiter's: the slice replies had, for reuse
	waiting   bool      // registered for writability on the waiter's loop
	progress  time.Time // when the last write while waiting took bytes
	softSince time.Time // since when pending output has been above the soft limit
	counted   int       // pending bytes counted in the waiter's total
}

// registry remembers the open connections, so that a server that stops can close the fds
// whose last request never came (the graph stopped accepting input before it).
type registry struct {
	mu    sync.Mutex
	next  uint64
	conns map[uint64]*conn
}

func (r *registry) add(fd int) *conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		r.conns = make(map[uint64]*conn)
	}
	r.next++
	c := &conn{id: r.next, fd: fd}
	r.conns[c.id] = c
	return c
}

func (r *registry) remove(c *conn) {
	r.mu.Lock()
	delete(r.conns, c.id)
	r.mu.Unlock()
}

func (r *registry) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.conns)
}

// drain empties the registry and returns what it held.
func (r *registry) drain() []*conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*conn, 0, len(r.conns))
	for _, c := range r.conns {
		out = append(out, c)
	}
	clear(r.conns)
	return out
}
