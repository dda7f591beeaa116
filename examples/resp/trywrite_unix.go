//go:build linux || darwin || freebsd

package main

import (
	"net"
	"syscall"
)

// tryWriter writes a goroutine-mode connection's output as far as the socket takes it
// without waiting: Go's poller keeps the socket non-blocking, and RawConn.Write calls fn
// once when fn reports itself done. So the connection's goroutine writes its replies
// itself when the socket has room, as it did before the writer existed, and hands the
// writer goroutine only what would block; a wake of the writer for every batch cost the
// baseline a fifth of its requests per second without pipelining.
type tryWriter struct {
	rc  syscall.RawConn
	out *outbuf
	ok  bool
	fn  func(fd uintptr) bool
}

func (t *tryWriter) init(tc *net.TCPConn) {
	t.rc, _ = tc.SyscallConn()
	t.fn = func(fd uintptr) bool {
		t.ok = writeSome(int(fd), t.out)
		return true
	}
}

// write writes what it can of out and reports whether the connection can still take more.
// A write the poller refuses (a deadline that has passed) writes nothing and is left to
// the writer, which sets the deadlines and tells a slow client from a broken one.
func (t *tryWriter) write(out *outbuf) bool {
	if t.rc == nil {
		return true
	}
	t.out, t.ok = out, true
	_ = t.rc.Write(t.fn)
	t.out = nil
	return t.ok
}
