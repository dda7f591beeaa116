//go:build linux || darwin || freebsd

package main

import (
	"errors"
	"fmt"
	"net"
	"os"
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

var errWriteTimeout = errors.New("client did not read its replies in time")

// writeFull writes b to a non-blocking socket. When the socket buffer is full it waits for
// writability with poll(2) on that one fd, at most timeout per wait.
//
// Waiting here blocks the replier stage, and with it the other connections it serves, while
// one client is slow to read; the timeout bounds that, and a client that stays stuck is
// dropped. The alternative, keeping the unsent bytes and asking an event loop to say when
// the fd is writable, needs a loop that the replier stage can register with and a way to be
// woken by it; flow's sink stages run no fds of their own, so that would need a side
// goroutine publishing "writable" entries back into the graph. On loopback, with socket
// buffers of megabytes, the wait is rare; the simple bounded wait was chosen.
func writeFull(fd int, b []byte, timeout time.Duration) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if n > 0 {
			b = b[n:]
		}
		switch {
		case err == nil || err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := waitWritable(fd, timeout); err != nil {
				return err
			}
		default:
			return os.NewSyscallError("write", err)
		}
	}
	return nil
}

func waitWritable(fd int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errWriteTimeout
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(pfd, int(left.Milliseconds())+1)
		switch {
		case err == unix.EINTR:
		case err != nil:
			return os.NewSyscallError("poll", err)
		case n > 0:
			return nil // writable, or an error the next write reports
		}
	}
}

// closeGracefully closes connections whose replies have all been written but whose
// clients may still be sending. Closing a socket that holds unread input makes the kernel
// answer with a reset, and a reset throws away the replies still on their way to the
// client. So it shuts the write side first (the client reads every reply, then end of
// file), then reads and drops what the clients still send until each one closes its side
// or all stay quiet for quiet, at most until max has passed, and only then closes.
func closeGracefully(fds []int, quiet, max time.Duration) {
	pfds := make([]unix.PollFd, 0, len(fds))
	for _, fd := range fds {
		_ = unix.Shutdown(fd, unix.SHUT_WR)
		pfds = append(pfds, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
	}
	buf := make([]byte, readSize)
	deadline := time.Now().Add(max)
	for len(pfds) > 0 {
		wait := min(quiet, time.Until(deadline))
		if wait <= 0 {
			break
		}
		n, err := unix.Poll(pfds, int(wait.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			break // quiet: nothing more is coming soon
		}
		open := pfds[:0]
		for _, p := range pfds {
			if p.Revents != 0 && !discardInput(int(p.Fd), buf) {
				unix.Close(int(p.Fd)) // the client has closed its side
				continue
			}
			p.Revents = 0
			open = append(open, p)
		}
		pfds = open
	}
	for _, p := range pfds {
		discardInput(int(p.Fd), buf)
		unix.Close(int(p.Fd))
	}
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
