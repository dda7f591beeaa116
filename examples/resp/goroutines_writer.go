package main

import (
	"net"
	"sync"
	"time"
)

// connWriter writes a goroutine-mode connection's replies on a goroutine of its own, so
// that the connection's goroutine goes on reading and executing while a write waits for
// the client. A client that sends a whole pipeline before it reads a reply (go-redis's,
// redis-py's and ioredis's pipelines) otherwise deadlocked with the server once the
// replies filled both socket buffers before the requests were all sent: each side blocked
// in its write until the write timeout dropped the client (redis-py's pipeline of 60 SETs
// and GETs of a 1 MiB value, which redis-server and the graph answer). Redis keeps reading
// and queues the replies; so does the graph's listener, while its replier waits for
// writability. The rejected design kept one goroutine that wrote each read's replies
// before it read again, which holds a connection's queue to the replies to one read but
// cannot read while it writes. The connection's goroutine still writes what the socket
// takes at once (tryWriter); the writer is woken only for what would block.
//
// mu guards the connection's assembler (c.out), which the reading goroutine fills as it
// executes and the writer drains, and the fields below. The writer takes the pending
// slices under mu and writes them without it: the reader only appends past them, and
// outbuf drops nothing before wrote is told it was written (discard replaces the buffer,
// leaving the slices being written to the writer alone).
type connWriter struct {
	mu    sync.Mutex
	cond  sync.Cond // signalled when output is added or reading ends
	c     *conn
	tc    *net.TCPConn
	ended bool // no more output will come: the writer ends once what is queued is written
	busy  bool // the writer is writing: the reading goroutine leaves the output to it
	fin   bool // the write side is shut (QUIT or a protocol error, its reply written)
	try   tryWriter

	timeout   time.Duration
	lim       outputLimit
	idle      time.Time // the write timeout's deadline; zero: none
	set       time.Time // the write deadline set on tc: idle, or the soft limit's if sooner
	softSince time.Time // since when pending output has been above the soft limit
	iov       net.Buffers
	done      chan struct{} // closed when the writer has ended
}

func newConnWriter(c *conn, tc *net.TCPConn, cfg *config) *connWriter {
	w := &connWriter{c: c, tc: tc, timeout: cfg.writeTimeout, lim: cfg.outLimit, done: make(chan struct{})}
	w.cond.L = &w.mu
	w.try.init(tc)
	go w.run()
	return w
}

// flush runs after the reading goroutine has added output (mu held): it writes what the
// socket takes at once, unless the writer is writing, and wakes the writer for the rest.
// It checks the limits first, since the soft limit's deadline may come while the writer
// is blocked in a write with the write timeout's.
//
// before is how much output was pending before the read that added it: a client with
// nothing pending was not behind, so the write timeout counts from now.
func (w *connWriter) flush(before int) {
	a := &w.c.out
	if a.broken || a.buf.len() == 0 && !a.shutdown {
		return
	}
	now := time.Now()
	if before == 0 {
		w.progress(now)
	}
	if !w.limit(now) {
		w.drop()
		return
	}
	if !w.busy && a.buf.len() > 0 {
		pending := a.buf.len()
		if !w.try.write(&a.buf) {
			w.drop() // the write failed: the client is gone
			return
		}
		if a.buf.len() < pending {
			w.progress(now)
		}
	}
	if a.buf.len() == 0 {
		w.finish()
		return
	}
	w.cond.Signal()
}

// finish runs when the queue is empty (mu held): a connection that QUIT or made a
// protocol error has its reply written, so its write side is shut at once, and the FIN
// follows the reply as from redis-server, rather than when the reading goroutine closes
// the socket.
func (w *connWriter) finish() {
	w.c.out.written()
	if w.c.out.shutdown && !w.fin {
		w.fin = true
		_ = w.tc.CloseWrite()
	}
}

// end tells the writer that no more output will come, and waits until it has written
// what is queued (or failed).
func (w *connWriter) end() {
	w.mu.Lock()
	w.ended = true
	w.cond.Signal()
	w.mu.Unlock()
	<-w.done
}

func (w *connWriter) run() {
	defer close(w.done)
	a := &w.c.out
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		for a.buf.len() == 0 && !a.broken {
			w.busy = false
			w.finish()
			if w.ended || a.shutdown {
				return
			}
			w.cond.Wait()
		}
		if a.broken {
			return
		}
		w.busy = true
		if !w.limit(time.Now()) {
			w.drop()
			return
		}
		w.iov = append(w.iov[:0], a.buf.pending()...)
		bufs := w.iov
		w.mu.Unlock()
		n, err := bufs.WriteTo(w.tc) // writev; it consumes bufs
		w.mu.Lock()
		clear(w.iov) // hold no value once written
		if a.broken {
			return // dropped meanwhile (past the hard limit): a.buf is no longer the one written
		}
		a.buf.wrote(int(n))
		if n > 0 {
			w.progress(time.Now())
		}
		if err != nil && n == 0 {
			w.drop() // a deadline that passed with no progress, or a broken connection
			return
		}
	}
}

// progress records that the client took output at now, or had none waiting: the write
// timeout counts from here. Moving the deadline costs a timer update, so it moves only
// once half the timeout has gone (a client then gets between timeout/2 and timeout to
// take a byte). A client that keeps sending but takes nothing moves it no more: new input
// is not progress.
func (w *connWriter) progress(now time.Time) {
	if w.timeout > 0 && (w.idle.IsZero() || w.idle.Sub(now) < w.timeout/2) {
		w.idle = now.Add(w.timeout)
	}
}

// limit checks the output limits at now and sets the write deadline they call for: the
// write timeout's, or the soft limit's if sooner. It reports false if the client is past
// a limit (or its deadline cannot be set).
func (w *connWriter) limit(now time.Time) bool {
	over, since := w.lim.over(w.c.out.buf.len(), w.softSince, now)
	if over {
		return false
	}
	w.softSince = since
	if w.idle.IsZero() {
		w.progress(now)
	}
	d := w.idle
	if !w.softSince.IsZero() && w.lim.softFor > 0 {
		if sd := w.softSince.Add(w.lim.softFor); d.IsZero() || sd.Before(d) {
			d = sd
		}
	}
	if !d.Equal(w.set) {
		if err := w.tc.SetWriteDeadline(d); err != nil {
			return false
		}
		w.set = d
	}
	return true
}

// drop ends the connection for a failed write or a limit (mu held): its output is
// released; a write the writer is blocked in ends at once (a deadline in the past), so a
// client that takes nothing is dropped when the limit says, not when the write timeout
// would; and its reading goroutine, which may be blocked in a read, sees end of file (or,
// where CloseRead does not end a pending read, its read deadline), stops and closes the
// socket with a reset.
func (w *connWriter) drop() {
	w.c.out.discard()
	w.c.dropped.Store(true)
	_ = w.tc.SetWriteDeadline(aLongTimeAgo)
	_ = w.tc.CloseRead()
	_ = w.tc.SetReadDeadline(aLongTimeAgo)
	w.cond.Signal()
}

// aLongTimeAgo is a deadline that has passed: setting it ends a pending read or write.
var aLongTimeAgo = time.Unix(1, 0)
