//go:build linux || darwin || freebsd

package main

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waiterRig is a reply stage's waiter with one connection on one end of a socket pair whose
// other end, the client, reads nothing until told to.
type waiterRig struct {
	s      *graphServer
	w      *outWaiter
	c      *conn
	client *os.File
	seq    uint64
	want   bytes.Buffer // every byte the client must read, in order
}

func newWaiterRig(t *testing.T) *waiterRig {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	_ = unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
	s := &graphServer{cfg: defaultConfig()}
	w, err := newOutWaiter(s)
	if err != nil {
		t.Fatal(err)
	}
	r := &waiterRig{s: s, w: w, client: os.NewFile(uintptr(fds[1]), "client")}
	r.c = s.conns.add(fds[0])
	t.Cleanup(func() {
		r.client.Close()
		if r.c.fd >= 0 {
			unix.Close(r.c.fd)
		}
	})
	return r
}

// reply makes the connection's next reply, a bulk string of n bytes, and records it.
func (r *waiterRig) reply(n int) reply {
	v := bytes.Repeat([]byte{byte('a' + r.seq%26)}, n)
	rp := reply{c: r.c, seq: r.seq, parts: 1, kind: replyBulk, b: v}
	r.seq++
	r.want.WriteString("$" + itoa(n) + "\r\n" + string(v) + "\r\n")
	return rp
}

// fill adds replies as the reply stage does until the socket is full, then hands the
// connection to the waiter, as the stage's write does on EAGAIN.
func (r *waiterRig) fill(t *testing.T) {
	t.Helper()
	for range 1000 {
		r.c.out.add(r.reply(16 << 10))
		for r.c.out.buf.len() > 0 {
			n, err := writeOut(r.c.fd, r.c.out.buf.pending())
			if n > 0 {
				r.c.out.wrote(n)
			}
			if err == unix.EAGAIN {
				r.w.take(r.c)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Fatal("the socket never filled")
}

// TestWaiterStopAssemblesPassedReplies: replies passed to the waiter while it holds a
// connection are all assembled, in order, into the output that Stop writes out, and the
// connection is handed back, when the waiter stops before the client has read anything:
// whether the waiter served the passes before the stop or finds them in the stop's round.
func TestWaiterStopAssemblesPassedReplies(t *testing.T) {
	const passed = 55
	for _, sameRound := range []bool{false, true} {
		t.Run(map[bool]string{false: "served before the stop", true: "passed in the stop's round"}[sameRound], func(t *testing.T) {
			r := newWaiterRig(t)
			r.fill(t)
			if sameRound {
				// Hold the waiter's lock while the replies are passed and the stop is set, so
				// that one round of the waiter sees both (what close and kick do, together).
				r.w.mu.Lock()
				r.c.slow.mu.Lock()
				for i := range passed {
					r.c.slow.replies = append(r.c.slow.replies, r.reply(1+i))
				}
				r.c.slow.mu.Unlock()
				if !r.c.slow.kicked {
					r.c.slow.kicked = true
					r.w.inbox = append(r.w.inbox, r.c)
				}
				r.w.stop = true
				r.w.mu.Unlock()
				r.w.pending.Store(true)
				r.w.loop.Wake()
				<-r.w.done
				_ = r.w.loop.Close()
			} else {
				for i := range passed {
					if !r.w.pass(r.c, r.reply(1+i)) {
						t.Fatalf("pass %d: the waiter had handed the connection back", i)
					}
				}
				r.w.close()
			}
			if r.c.slow.on.Load() || len(r.c.slow.replies) != 0 {
				t.Fatalf("after close: held %v, %d replies not taken", r.c.slow.on.Load(), len(r.c.slow.replies))
			}
			if r.c.out.next != r.seq {
				t.Fatalf("assembled up to reply %d, want %d", r.c.out.next, r.seq)
			}
			if q := r.w.queued.Load(); q != 0 {
				t.Fatalf("the waiter still counts %d bytes", q)
			}
			// Stop writes the rest out while the client reads: it gets every reply, in order.
			read := make(chan []byte)
			go func() {
				_ = r.client.SetReadDeadline(time.Now().Add(10 * time.Second))
				got, _ := io.ReadAll(r.client)
				read <- got
			}()
			closeGracefully([]closing{{fd: r.c.fd, out: r.c.out.buf}}, 50*time.Millisecond, time.Second, 5*time.Second)
			r.c.fd = -1 // closed by closeGracefully
			if got := <-read; !bytes.Equal(got, r.want.Bytes()) {
				t.Fatalf("the client read %d bytes, want the %d written, in order", len(got), r.want.Len())
			}
		})
	}
}

// TestWaiterHandsBackOnceWritten: a connection the waiter holds goes back to its stage once
// the client has read everything, passed replies included, and a reply passed after that
// is refused (the stage assembles it itself).
func TestWaiterHandsBackOnceWritten(t *testing.T) {
	r := newWaiterRig(t)
	r.fill(t)
	for i := range 10 {
		r.w.pass(r.c, r.reply(100+i))
	}
	done := make(chan []byte)
	go func() {
		buf := make([]byte, r.want.Len())
		_ = r.client.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _ := io.ReadFull(r.client, buf)
		done <- buf[:n]
	}()
	got := <-done
	if !bytes.Equal(got, r.want.Bytes()) {
		t.Fatalf("the client read %d bytes, want %d in order", len(got), r.want.Len())
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.c.slow.on.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if r.c.slow.on.Load() {
		t.Fatal("the waiter still holds the connection after everything was written")
	}
	if r.w.pass(r.c, r.reply(1)) {
		t.Fatal("the waiter took a reply for a connection it had handed back")
	}
	r.w.close()
}
