//go:build linux || darwin || freebsd || dragonfly || netbsd || openbsd

package poller

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// recorder collects callback deliveries per descriptor.
type recorder map[int][]Events

func (r recorder) cb(fd int, ev Events) { r[fd] = append(r[fd], ev) }

// poll runs one non-blocking step and returns what it delivered.
func poll(t *testing.T, l *Loop, r recorder) recorder {
	t.Helper()
	clear(r)
	if err := l.Poll(0); err != nil {
		t.Fatal(err)
	}
	return r
}

// pollFor runs steps until fd is reported or the watchdog expires.
func pollFor(t *testing.T, l *Loop, r recorder, fd int) Events {
	t.Helper()
	clear(r)
	deadline := time.Now().Add(watchdog)
	for len(r[fd]) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("fd %d never reported", fd)
		}
		if err := l.Poll(100 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if len(r[fd]) != 1 {
		t.Fatalf("fd %d reported %v in one step, want one callback", fd, r[fd])
	}
	return r[fd][0]
}

func pipe(t *testing.T) (r, w int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { unix.Close(p[0]); unix.Close(p[1]) })
	return p[0], p[1]
}

func write(t *testing.T, fd int, s string) {
	t.Helper()
	if _, err := unix.Write(fd, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// addReadablePipes makes two pipes with a byte waiting in each and adds their
// read ends to l with cb, so that one step reports both in one batch.
func addReadablePipes(t *testing.T, l *Loop, cb func(int, Events)) (r1, r2 int) {
	t.Helper()
	r1, w1 := pipe(t)
	r2, w2 := pipe(t)
	write(t, w1, "x")
	write(t, w2, "x")
	for _, fd := range []int{r1, r2} {
		if err := l.Add(fd, Readable, cb); err != nil {
			t.Fatal(err)
		}
	}
	return r1, r2
}

func TestPipeReadiness(t *testing.T) {
	l := newLoop(t)
	rfd, wfd := pipe(t)
	rec := recorder{}
	if err := l.Add(rfd, Readable, rec.cb); err != nil {
		t.Fatal(err)
	}
	if err := l.Add(rfd, Readable, rec.cb); err == nil {
		t.Fatal("second Add of the same fd succeeded")
	}
	if got := poll(t, l, rec); len(got) != 0 {
		t.Fatalf("empty pipe reported %v", got)
	}
	write(t, wfd, "hello")
	if ev := pollFor(t, l, rec, rfd); ev != Readable {
		t.Fatalf("after write: %v, want Readable", ev)
	}
	// Level-triggered: not drained, so reported again.
	if got := poll(t, l, rec); len(got[rfd]) != 1 || got[rfd][0] != Readable {
		t.Fatalf("undrained pipe: %v, want Readable again", got)
	}
	// Silenced by Modify(0), back with Modify(Readable).
	if err := l.Modify(rfd, 0); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, l, rec); len(got) != 0 {
		t.Fatalf("after Modify(0): %v, want nothing", got)
	}
	if err := l.Modify(rfd, Readable); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, l, rec); len(got[rfd]) != 1 {
		t.Fatalf("after Modify(Readable): %v, want Readable", got)
	}
	// Drained: quiet again.
	var buf [16]byte
	if n, err := unix.Read(rfd, buf[:]); err != nil || n != 5 {
		t.Fatalf("read = %d, %v", n, err)
	}
	if got := poll(t, l, rec); len(got) != 0 {
		t.Fatalf("drained pipe reported %v", got)
	}
	// The write end is writable.
	if err := l.Add(wfd, Writable, rec.cb); err != nil {
		t.Fatal(err)
	}
	if ev := pollFor(t, l, rec, wfd); ev != Writable {
		t.Fatalf("write end: %v, want Writable", ev)
	}
	if err := l.Remove(wfd); err != nil {
		t.Fatal(err)
	}
	// Closing the write end hangs up the read end, which reads EOF.
	unix.Close(wfd)
	if ev := pollFor(t, l, rec, rfd); ev != Readable|Hangup {
		t.Fatalf("after peer close: %v, want Readable|Hangup", ev)
	}
	// Remove stops callbacks even though the condition persists.
	if err := l.Remove(rfd); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, l, rec); len(got) != 0 {
		t.Fatalf("after Remove: %v, want nothing", got)
	}
	if err := l.Remove(rfd); err == nil {
		t.Fatal("Remove of an unregistered fd succeeded")
	}
	if err := l.Modify(rfd, Readable); err == nil {
		t.Fatal("Modify of an unregistered fd succeeded")
	}
}

func TestSocketpairReadiness(t *testing.T) {
	l := newLoop(t)
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fds[0], fds[1]
	defer unix.Close(a)
	rec := recorder{}
	if err := l.Add(a, Readable|Writable, rec.cb); err != nil {
		t.Fatal(err)
	}
	if ev := pollFor(t, l, rec, a); ev != Writable {
		t.Fatalf("idle socket: %v, want Writable", ev)
	}
	write(t, b, "x")
	if ev := pollFor(t, l, rec, a); ev != Readable|Writable {
		t.Fatalf("after peer write: %v, want Readable|Writable in one callback", ev)
	}
	if err := l.Modify(a, Readable); err != nil {
		t.Fatal(err)
	}
	if ev := pollFor(t, l, rec, a); ev != Readable {
		t.Fatalf("after Modify(Readable): %v, want Readable", ev)
	}
	// A half close is a hangup for the reader (EPOLLRDHUP, EV_EOF).
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if ev := pollFor(t, l, rec, a); ev&(Readable|Hangup) != Readable|Hangup {
		t.Fatalf("after peer shutdown: %v, want Readable|Hangup", ev)
	}
	unix.Close(b)
	if err := l.Modify(a, Writable); err != nil {
		t.Fatal(err)
	}
	if ev := pollFor(t, l, rec, a); ev&Hangup == 0 || ev&Readable != 0 {
		t.Fatalf("writer after peer close: %v, want Hangup without Readable", ev)
	}
	if err := l.Remove(a); err != nil {
		t.Fatal(err)
	}
}

// TestCallbackRemovesOther checks that a callback's Remove takes effect within
// the batch being dispatched.
func TestCallbackRemovesOther(t *testing.T) {
	l := newLoop(t)
	calls := 0
	var other map[int]int // each read end to the other's
	r1, r2 := addReadablePipes(t, l, func(fd int, ev Events) {
		calls++
		if err := l.Remove(other[fd]); err != nil {
			t.Error(err)
		}
		if err := l.Remove(fd); err != nil {
			t.Error(err)
		}
	})
	other = map[int]int{r1: r2, r2: r1}
	time.Sleep(time.Millisecond)
	if err := l.Poll(time.Second); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("%d callbacks ran, want 1: the first removed the other", calls)
	}
	// A callback may register descriptors too.
	added := false
	if err := l.Add(r1, Readable, func(fd int, ev Events) {
		if err := l.Remove(fd); err != nil {
			t.Error(err)
		}
		if err := l.Add(r2, Readable, func(int, Events) { added = true }); err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	l.Poll(time.Second)
	l.Poll(time.Second)
	if !added {
		t.Fatal("fd added from a callback never reported")
	}
	if err := l.Remove(r2); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveAfterClose(t *testing.T) {
	l := newLoop(t)
	r, _ := pipe(t)
	fd, err := unix.Dup(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Add(fd, Readable, func(int, Events) {}); err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if err := l.Remove(fd); err != nil {
		t.Fatalf("Remove of a closed fd = %v, want nil", err)
	}
}

// TestCallbackPanicKeepsLoopUsable checks that a panicking callback neither
// loses the other descriptors of its batch nor breaks later dispatches.
func TestCallbackPanicKeepsLoopUsable(t *testing.T) {
	l := newLoop(t)
	seen := map[int]int{}
	panicked := false
	r1, r2 := addReadablePipes(t, l, func(fd int, ev Events) {
		seen[fd]++
		if !panicked {
			panicked = true
			panic("boom")
		}
	})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v, want the callback's panic", r)
			}
		}()
		l.Poll(time.Second)
	}()
	for range 2 {
		if err := l.Poll(time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if seen[r1] < 2 || seen[r2] < 2 {
		t.Fatalf("deliveries %v after a panic, want both descriptors reported again", seen)
	}
	for _, fd := range []int{r1, r2} {
		if err := l.Remove(fd); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDescriptorZero registers descriptor 0, which is the identifier of the
// wake event on kqueue (wakeIdent in wake_kevent.go): the two must not be taken
// for one another, so a wake alone reports nothing and a readable descriptor 0
// is reported even when a wake comes in the same batch. The test moves a pipe
// onto descriptor 0 for its duration and puts standard input back afterwards.
func TestDescriptorZero(t *testing.T) {
	l := newLoop(t)
	r, w := pipe(t)
	saved, err := unix.Dup(0)
	if err == unix.EBADF {
		saved = -1 // there is no standard input to put back
	} else if err != nil {
		t.Fatal(err)
	}
	if err := unix.Dup2(r, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if saved < 0 {
			unix.Close(0)
			return
		}
		if err := unix.Dup2(saved, 0); err != nil {
			t.Errorf("restoring standard input: %v", err)
		}
		unix.Close(saved)
	})
	rec := recorder{}
	if err := l.Add(0, Readable, rec.cb); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Remove(0); err != nil {
			t.Error(err)
		}
	}()
	if err := l.writeWaker(); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, l, rec); len(got) != 0 {
		t.Fatalf("a wake alone reported %v", got)
	}
	write(t, w, "x")
	if err := l.writeWaker(); err != nil {
		t.Fatal(err)
	}
	if got := poll(t, l, rec); len(got[0]) != 1 || got[0][0] != Readable {
		t.Fatalf("descriptor 0 readable with a wake pending: %v, want one Readable", got)
	}
	// And the wake was taken in that batch: a sleep now lasts its timeout.
	clear(rec)
	var buf [1]byte
	if _, err := unix.Read(0, buf[:]); err != nil {
		t.Fatal(err)
	}
	const sleep = 10 * time.Millisecond
	start := time.Now()
	if err := l.Poll(sleep); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < sleep || len(rec) != 0 {
		t.Fatalf("Poll(%v) returned after %v with %v: the wake was not taken", sleep, d, rec)
	}
}
