package kafka

import (
	"fmt"
	"os"

	"github.com/loopyring/loopyring/poller"
)

// waker runs a callback on a stage's goroutine when another goroutine asks: the write end of
// a pipe for the asking goroutine, the read end registered on the stage's loop. The loop's
// own Wake was rejected: it ends a sleep but runs no callback and carries no message, and a
// source stage's wait re-checks only whether the graph is stopping.
//
// A pipe rather than an eventfd, so that one file serves every platform with a loop; the
// callback drains what was written, so the few bytes of one poll's wake never fill it.
type waker struct {
	loop *poller.Loop
	r, w *os.File
	fd   int
	buf  [64]byte
}

// newWaker registers cb to run on loop's goroutine after every wake. Loop's owner only.
func newWaker(loop *poller.Loop, cb func()) (*waker, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("kafka: wake pipe: %w", err)
	}
	wk := &waker{loop: loop, r: r, w: w, fd: -1}
	rc, err := r.SyscallConn()
	if err == nil {
		// The descriptor stays non-blocking and owned by r; it is used only until close,
		// which removes it from the loop before r closes it.
		err = rc.Control(func(fd uintptr) { wk.fd = int(fd) })
	}
	if err == nil {
		err = loop.Add(wk.fd, poller.Readable, func(int, poller.Events) {
			// Readable, so the read returns at once; the loop's owner is the only reader.
			_, _ = wk.r.Read(wk.buf[:])
			cb()
		})
	}
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("kafka: wake pipe: %w", err)
	}
	return wk, nil
}

// wake makes the loop run the callback. Any goroutine but the loop's.
func (wk *waker) wake() { _, _ = wk.w.Write(wakeByte[:]) }

// wakeByte is what wake writes; buf is the reader's, so that the two goroutines share no
// memory.
var wakeByte = [1]byte{1}

// close unregisters and closes the pipe, once no goroutine calls wake any more. Loop's owner
// only.
func (wk *waker) close() {
	_ = wk.loop.Remove(wk.fd)
	wk.r.Close()
	wk.w.Close()
}
