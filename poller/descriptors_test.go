//go:build linux || darwin || freebsd || dragonfly || netbsd || openbsd

package poller

import (
	"maps"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// probeGap is how many free descriptor numbers in a row end openFDs' search.
const probeGap = 1024

// openFDs returns the process's open descriptors, found by asking fcntl about
// each number in turn until probeGap numbers in a row are free. It may miss
// descriptors beyond such a gap, but it misses the same ones every time, and
// it finds every descriptor opened since the last call: the kernel hands out
// the lowest free number, so new descriptors fill the holes first and then
// extend the run of open ones. Listing /proc/self/fd was rejected because it
// is Linux's; /dev/fd is no substitute, since FreeBSD shows only 0, 1 and 2
// there unless fdescfs is mounted.
func openFDs(t *testing.T) map[int]bool {
	t.Helper()
	fds := make(map[int]bool)
	for fd, free := 0, 0; free < probeGap; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			fds[fd] = true
			free = 0
		} else {
			free++
		}
	}
	if len(fds) == 0 {
		t.Fatal("fcntl(F_GETFD) finds no open descriptor at all")
	}
	return fds
}

// TestLoopDescriptors checks what New opens: loopFDs descriptors (set by the
// mechanism's test file), each close-on-exec so that a child started by
// os/exec inherits none, and Close releases every one of them.
func TestLoopDescriptors(t *testing.T) {
	before := openFDs(t)
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var opened []int
	for fd := range openFDs(t) {
		if !before[fd] {
			opened = append(opened, fd)
		}
	}
	slices.Sort(opened)
	if len(opened) != loopFDs {
		t.Errorf("New opened descriptors %v, want %d", opened, loopFDs)
	}
	for _, fd := range opened {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("descriptor %d: F_GETFD = %#x, %v; want FD_CLOEXEC set", fd, flags, err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if after := openFDs(t); !maps.Equal(after, before) {
		t.Errorf("%d descriptors open before New, %d after Close", len(before), len(after))
	}
}

// TestNoDescriptorLeak opens, wakes and closes many loops and compares the
// process's open descriptors before and after.
func TestNoDescriptorLeak(t *testing.T) {
	before := openFDs(t)
	for range scale(200) {
		l, err := New()
		if err != nil {
			t.Fatal(err)
		}
		l.Wake()
		// A wake written and never read must not keep anything open either.
		_ = l.writeWaker()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := openFDs(t); !maps.Equal(after, before) {
		t.Fatalf("%d descriptors open before, %d after", len(before), len(after))
	}
}
