//go:build darwin || freebsd || dragonfly

package poller

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The tests in this file have only ever been compiled (GOOS=darwin, freebsd
// and dragonfly go vet and go test -c), never run: CI runs Linux only.

// loopFDs is what New opens where kqueue has EVFILT_USER: the kqueue alone,
// which is its own wake channel.
const loopFDs = 1

// TestUserEventTriggersMerge checks the claim openWaker rests on: with
// EV_CLEAR, triggers that pile up before the kernel reports the event come out
// as one event, and reporting it resets it, so the owner has nothing to drain.
// It reads the kqueue directly, without the loop, to see the raw events.
func TestUserEventTriggersMerge(t *testing.T) {
	l := newLoop(t)
	for range 100 {
		if err := l.writeWaker(); err != nil {
			t.Fatal(err)
		}
	}
	// pending returns the wake events the kqueue reports now, without blocking.
	pending := func() (n int) {
		var evs [8]unix.Kevent_t
		var zero unix.Timespec
		got, err := unix.Kevent(l.p.kq, nil, evs[:], &zero)
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs[:got] {
			if !l.takeWake(&evs[i]) {
				t.Fatalf("unexpected event %+v on a loop with no descriptors", evs[i])
			}
			n++
		}
		return n
	}
	if n := pending(); n != 1 {
		t.Fatalf("100 triggers reported as %d events, want 1", n)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d wake events left after the first report, want 0 (EV_CLEAR)", n)
	}
}
