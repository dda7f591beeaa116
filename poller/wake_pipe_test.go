//go:build netbsd || openbsd

package poller

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests in this file have only ever been compiled (GOOS=netbsd and
// openbsd go vet and go test -c), never run: CI runs Linux only.

// loopFDs is what New opens where kqueue has no EVFILT_USER: the kqueue and
// both ends of the wake pipe.
const loopFDs = 3

// TestWakePipeFull fills the wake pipe, as a burst of wakes against an owner
// that never sleeps could, and checks the three things wake_pipe.go relies on:
// a write to a full pipe fails with EAGAIN instead of blocking the waker, one
// step of the loop drains it all, and the loop can be woken afterwards.
func TestWakePipeFull(t *testing.T) {
	l := newLoop(t)
	for _, fd := range []int{l.w.r, l.w.w} {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || flags&unix.O_NONBLOCK == 0 {
			// A blocking write end would hang the loop below.
			t.Fatalf("wake pipe descriptor %d: F_GETFL = %#x, %v; want O_NONBLOCK", fd, flags, err)
		}
	}
	written := 0
	for {
		err := l.writeWaker()
		if errors.Is(err, unix.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatalf("write %d to the wake pipe: %v", written+1, err)
		}
		if written++; written > 1<<24 {
			t.Fatalf("the wake pipe took %d bytes without filling", written)
		}
	}
	t.Logf("the wake pipe filled after %d wakes", written)
	if err := l.Poll(0); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if n, err := unix.Read(l.w.r, b[:]); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("read after one Poll = %d, %v; want EAGAIN: the pipe was not drained", n, err)
	}
	go func() {
		for l.Stats().Sleeps == 0 {
			time.Sleep(time.Millisecond)
		}
		l.Wake()
	}()
	start := time.Now()
	if err := l.Poll(watchdog); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d >= watchdog {
		t.Fatalf("a drained wake pipe did not wake the loop in %v", d)
	}
	if s := l.Stats(); s.Wakeups != 1 {
		t.Errorf("Stats() = %+v, want one wakeup", s)
	}
}
