//go:build linux || darwin || freebsd

package main

import (
	"context"
	"log"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/poller"
)

// outWaiter holds the connections of one reply stage whose sockets are full: it waits for
// their writability in an event loop of its own, on a goroutine of its own, writes their
// output as the clients take it, drops those past their output limit or silent for the
// write timeout, and hands each back to the stage once everything is written. While it
// holds a connection it owns the connection's assembler, and the stage passes it the
// connection's replies (handoff). Everything here but take, pass, kick, close and queued
// belongs to the waiter's goroutine.
//
// The waiter runs outside the graph, so flow does not catch its panics: a panic while it
// serves a connection (a bug in assembling or encoding a reply) drops that client, logs,
// and leaves the others be, as a failing batch of the stage would have.
type outWaiter struct {
	s    *graphServer
	loop *poller.Loop

	mu      sync.Mutex
	inbox   []*conn // connections taken or with replies passed since the waiter last looked
	stop    bool
	pending atomic.Bool // inbox is not empty, or stop is set: what the loop's wait checks
	done    chan struct{}

	waiting    map[int]*conn // by fd: registered for writability on loop
	check      *poller.Timer // checks the waiting connections' limits; nil while none wait
	onWritable func(int, poller.Events)
	spare      []*conn
	// queued is the bytes of output its connections hold. Written by the waiter, read by any
	// goroutine (stats, tests).
	queued atomic.Int64
}

func newOutWaiter(s *graphServer) (*outWaiter, error) {
	loop, err := poller.New()
	if err != nil {
		return nil, err
	}
	w := &outWaiter{s: s, loop: loop, done: make(chan struct{}), waiting: make(map[int]*conn)}
	w.onWritable = w.writable
	go w.run()
	return w, nil
}

// take hands the waiter a connection whose socket is full, output and all. The stage calls
// it and touches c.out no more until the waiter hands the connection back.
func (w *outWaiter) take(c *conn) {
	c.slow.mu.Lock()
	c.slow.on.Store(true)
	c.slow.mu.Unlock()
	w.kick(c)
}

// pass gives the waiter a reply for a connection it holds. It reports false, passing
// nothing, if the waiter has handed the connection back meanwhile: the stage owns it again.
func (w *outWaiter) pass(c *conn, rp reply) bool {
	c.slow.mu.Lock()
	if !c.slow.on.Load() {
		c.slow.mu.Unlock()
		return false
	}
	c.slow.replies = append(c.slow.replies, rp)
	c.slow.mu.Unlock()
	w.kick(c)
	return true
}

// kick puts a connection in the waiter's inbox and wakes the waiter.
func (w *outWaiter) kick(c *conn) {
	w.mu.Lock()
	if !c.slow.kicked {
		c.slow.kicked = true
		w.inbox = append(w.inbox, c)
	}
	w.mu.Unlock()
	w.pending.Store(true)
	w.loop.Wake()
}

// close stops the waiter once the stage has ended, and waits for it: the connections it
// held keep their output, with every reply passed to it assembled, for Stop to write out.
func (w *outWaiter) close() {
	w.mu.Lock()
	w.stop = true
	w.mu.Unlock()
	w.pending.Store(true)
	w.loop.Wake()
	<-w.done
	_ = w.loop.Close()
}

func (w *outWaiter) run() {
	defer close(w.done)
	ready := w.pending.Load
	for {
		if err := w.loop.Wait(context.Background(), ready); err != nil {
			log.Printf("resp: reply waiter: %v", err)
			time.Sleep(time.Millisecond) // a poller that keeps failing must not spin
		}
		// Wait returns without polling when kicks are already pending: poll anyway, so that
		// a stream of kicks cannot hold back writability and the limits' timer.
		_ = w.loop.Poll(0)
		w.pending.Store(false)
		w.mu.Lock()
		in, stop := w.inbox, w.stop
		w.inbox = w.spare[:0]
		for _, c := range in {
			c.slow.kicked = false
		}
		w.mu.Unlock()
		for i, c := range in {
			w.guard(c, func() { w.serve(c, stop) })
			in[i] = nil
		}
		w.spare = in[:0]
		if stop {
			w.end()
			return
		}
	}
}

// guard runs f for connection c and turns a panic into the client's drop (see outWaiter).
func (w *outWaiter) guard(c *conn, f func()) {
	defer func() {
		if v := recover(); v != nil {
			log.Printf("resp: reply waiter: connection %d: panic: %v; dropping the client", c.id, v)
			if c.fd >= 0 && c.slow.on.Load() {
				w.s.drop(c)
				w.release(c)
			}
		}
	}()
	f()
}

// serve assembles the replies passed for a connection the waiter holds and writes what the
// socket takes. Once the waiter stops it only assembles: Stop writes the rest.
func (w *outWaiter) serve(c *conn, stop bool) {
	if !c.slow.on.Load() {
		return // handed back before this kick was served
	}
	c.slow.mu.Lock()
	rs := c.slow.replies
	c.slow.replies = c.slow.spare[:0]
	c.slow.mu.Unlock()
	for _, rp := range rs {
		c.out.add(rp)
	}
	clear(rs) // the replies refer to values and buffers: hold none of them
	c.slow.spare = rs[:0]
	if stop {
		if !c.slow.waiting { // end hands back the waiting ones
			handBack(c)
		}
		return
	}
	if !c.slow.waiting {
		if err := w.loop.Add(c.fd, poller.Writable, w.onWritable); err != nil {
			w.s.drop(c)
			w.release(c)
			return
		}
		c.slow.waiting, c.slow.progress = true, time.Now()
		w.waiting[c.fd] = c
		if w.check == nil {
			w.check = w.loop.AfterFunc(w.s.checkEvery(), w.checkLimits)
		}
		w.write(c)
		return
	}
	// Registered already: the socket was full at the last write, and its writability
	// callback writes the new output with the rest. Check the limit now.
	w.account(c, time.Time{})
}

// writable is the callback of a waiting connection's fd.
func (w *outWaiter) writable(fd int, _ poller.Events) {
	if c := w.waiting[fd]; c != nil {
		w.guard(c, func() { w.write(c) })
	}
}

// write writes what a connection has pending until it is all written (the connection then
// goes back to its stage) or the socket is full (it stays, and its limit is checked). A
// failed write drops the client.
func (w *outWaiter) write(c *conn) {
	wrote, err := writePending(c)
	if wrote {
		c.slow.progress = time.Now()
	}
	switch err {
	case nil:
		w.release(c)
	case unix.EAGAIN:
		w.account(c, time.Time{})
	default:
		w.s.drop(c)
		w.release(c)
	}
}

// account updates the waiter's count of a connection's output and drops the client if the
// output passes its limit. A zero now is read from the clock when needed.
func (w *outWaiter) account(c *conn, now time.Time) {
	n := c.out.buf.len()
	w.queued.Add(int64(n - c.slow.counted))
	c.slow.counted = n
	lim := w.s.cfg.outLimit
	if lim.soft > 0 && n > lim.soft && now.IsZero() {
		now = time.Now()
	}
	var over bool
	if over, c.slow.softSince = lim.over(n, c.slow.softSince, now); over {
		w.s.drop(c)
		w.release(c)
	}
}

// checkLimits runs while connections wait: it drops those past their soft limit's time or
// silent for the write timeout.
func (w *outWaiter) checkLimits() {
	now := time.Now()
	for _, c := range w.waiting {
		if wt := w.s.cfg.writeTimeout; wt > 0 && now.Sub(c.slow.progress) >= wt {
			w.s.drop(c)
			w.release(c)
			continue
		}
		w.account(c, now)
	}
	w.check = nil
	if len(w.waiting) > 0 {
		w.check = w.loop.AfterFunc(w.s.checkEvery(), w.checkLimits)
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

// unregister stops waiting for a connection's writability and forgets its output.
func (w *outWaiter) unregister(c *conn) {
	if !c.slow.waiting {
		return
	}
	_ = w.loop.Remove(c.fd)
	delete(w.waiting, c.fd)
	w.queued.Add(int64(-c.slow.counted))
	c.slow.waiting, c.slow.counted, c.slow.softSince = false, 0, time.Time{}
}

// release runs when a connection has nothing pending (or was dropped): it settles the
// connection (shut down or closed if its turn has come) and hands it back to its stage,
// unless replies were passed meanwhile, which it serves first.
func (w *outWaiter) release(c *conn) {
	w.unregister(c)
	w.s.settle(c)
	c.slow.mu.Lock()
	if len(c.slow.replies) > 0 && c.fd >= 0 {
		c.slow.mu.Unlock()
		w.kick(c) // served in the next round, the connection still held
		return
	}
	c.slow.on.Store(false)
	c.slow.mu.Unlock()
}

// handBack gives a connection back to its stage once the waiter has stopped, every reply
// passed to it assembled: nothing more is passed then, since the stage has ended.
func handBack(c *conn) {
	c.slow.mu.Lock()
	c.slow.on.Store(false)
	c.slow.mu.Unlock()
}

// end runs when the waiter stops: every connection it holds goes back, its output pending,
// to be written by Stop (closeGracefully).
func (w *outWaiter) end() {
	for _, c := range w.waiting {
		w.unregister(c)
		handBack(c)
	}
	if w.check != nil {
		w.check.Stop()
		w.check = nil
	}
}
