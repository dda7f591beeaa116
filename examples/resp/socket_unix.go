//go:build linux || darwin || freebsd

package main

import (
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// listenTCP opens a non-blocking listening socket. It is made by hand rather than by
// net.Listen because the listener stages poll it in their own event loops: a net.Listener's
// fd belongs to Go's netpoller.
func listenTCP(addr string) (int, *net.TCPAddr, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return -1, nil, fmt.Errorf("resolve %q: %w", addr, err)
	}
	family, sa := unix.AF_INET6, unix.Sockaddr(nil)
	if ip4 := ta.IP.To4(); ip4 != nil || ta.IP == nil {
		family = unix.AF_INET
		s := &unix.SockaddrInet4{Port: ta.Port}
		copy(s.Addr[:], ip4)
		sa = s
	} else {
		s := &unix.SockaddrInet6{Port: ta.Port}
		copy(s.Addr[:], ta.IP.To16())
		sa = s
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		return -1, nil, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(fd)
	fail := func(op string, err error) (int, *net.TCPAddr, error) {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("listen on %s: %w", addr, os.NewSyscallError(op, err))
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, 1024); err != nil {
		return fail("listen", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return fail("setnonblock", err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	out := &net.TCPAddr{}
	switch b := bound.(type) {
	case *unix.SockaddrInet4:
		out.IP, out.Port = net.IP(b.Addr[:]).To16(), b.Port
	case *unix.SockaddrInet6:
		out.IP, out.Port = net.IP(b.Addr[:]), b.Port
	}
	return fd, out, nil
}

// accept takes one pending connection and prepares it: non-blocking, close-on-exec, and
// no Nagle delay, since replies are already batched per connection by the replier.
func accept(lfd int) (int, error) {
	fd, _, err := unix.Accept(lfd)
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("setnonblock", err)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1) // best effort
	return fd, nil
}

// resetOnClose makes the close of a connection send a reset (SO_LINGER with a zero time),
// for a client that may still be sending what the server will not read (unreadInput), or
// whose output is being thrown away.
//
// A FIN is not enough there. The connection was shut down for reading (which is how its
// listener learns to stop), and Linux sends no window update once a socket is shut down
// for reading: a client that had filled the window stays blocked in its write, probing a
// window that never opens, until the kernel times the orphaned socket out (a minute). A
// reset ends its write at once; on Linux the replies it was sent before stay readable.
func resetOnClose(fd int) {
	_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

// closing is a connection that Stop closes, with the replies its socket has not taken yet.
type closing struct {
	fd    int
	out   outbuf
	until time.Time // when it is closed if nothing else closes it first
}

// writeOut writes bufs to a non-blocking socket with one system call (sendmsg, which is
// writev for a socket: x/sys has no writev on FreeBSD), or write for one buffer, which
// costs no iovec array.
func writeOut(fd int, bufs [][]byte) (int, error) {
	if len(bufs) == 1 {
		return unix.Write(fd, bufs[0])
	}
	return unix.SendmsgBuffers(fd, bufs[:min(len(bufs), maxIovecs)], nil, nil, 0)
}

// maxIovecs is the most buffers one writeOut passes (IOV_MAX is 1024 on Linux, macOS and
// FreeBSD).
const maxIovecs = 1024

// closeGracefully closes connections once their clients have had their last replies,
// though they may still be sending. Closing a socket that holds unread input makes the
// kernel answer with a reset, and a reset throws away the replies still on their way to
// the client. So it writes out what each connection still has to say (a client that takes
// nothing of it for writeTimeout is closed), shuts the write side (the client reads every
// reply, then end of file), then reads and drops what the client still sends until it
// closes its side or, once no connection has output left, all stay quiet for quiet, at
// most linger after its output was written, and only then closes.
func closeGracefully(cs []closing, quiet, linger, writeTimeout time.Duration) {
	if writeTimeout <= 0 {
		writeTimeout = linger
	}
	now := time.Now()
	pfds := make([]unix.PollFd, len(cs))
	for i := range cs {
		c := &cs[i]
		pfds[i] = unix.PollFd{Fd: int32(c.fd), Events: unix.POLLOUT}
		c.until = now.Add(writeTimeout)
		if c.out.len() == 0 {
			_ = unix.Shutdown(c.fd, unix.SHUT_WR)
			pfds[i].Events, c.until = unix.POLLIN, now.Add(linger)
		}
	}
	buf := make([]byte, readSize)
	for len(pfds) > 0 {
		writing := slices.ContainsFunc(pfds, func(p unix.PollFd) bool { return p.Events == unix.POLLOUT })
		wait := time.Until(slices.MinFunc(cs, func(a, b closing) int { return a.until.Compare(b.until) }).until)
		if !writing {
			wait = min(wait, quiet)
		}
		n, err := unix.Poll(pfds, int(max(wait, 0).Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || (n == 0 && !writing) {
			break // quiet: nothing more is coming soon
		}
		now := time.Now()
		open, left := pfds[:0], cs[:0]
		for i, p := range pfds {
			c := cs[i]
			switch {
			case p.Revents == 0:
				if now.After(c.until) {
					closeDiscarding(c.fd, buf)
					continue
				}
			case p.Events == unix.POLLOUT:
				before := c.out.len()
				if !writeSome(c.fd, &c.out) {
					unix.Close(c.fd) // the client is gone
					continue
				}
				if c.out.len() < before {
					c.until = now.Add(writeTimeout)
				}
				if c.out.len() == 0 {
					_ = unix.Shutdown(c.fd, unix.SHUT_WR)
					p.Events, c.until = unix.POLLIN, now.Add(linger)
				}
			case !discardInput(c.fd, buf):
				unix.Close(c.fd) // the client has closed its side
				continue
			}
			p.Revents = 0
			open, left = append(open, p), append(left, c)
		}
		pfds, cs = open, left
	}
	for _, c := range cs {
		closeDiscarding(c.fd, buf)
	}
}

// closeDiscarding closes a connection after dropping the input it holds, so that the
// close sends a FIN rather than a reset if it can.
func closeDiscarding(fd int, buf []byte) {
	discardInput(fd, buf)
	unix.Close(fd)
}

// writeSome writes out to a non-blocking socket until it is all written or the socket would
// block, and reports whether the connection can still take more.
func writeSome(fd int, out *outbuf) bool {
	for out.len() > 0 {
		n, err := writeOut(fd, out.pending())
		if n > 0 {
			out.wrote(n)
		}
		switch err {
		case nil, unix.EINTR:
		case unix.EAGAIN:
			return true
		default:
			return false
		}
	}
	return true
}

// discardInput reads a non-blocking socket until it would block, and reports whether the
// connection can still send more (false at end of file or on an error).
func discardInput(fd int, buf []byte) bool {
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return true
		case err != nil || n == 0:
			return false
		}
	}
}
