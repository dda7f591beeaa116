package affinity

import (
	"runtime"
	"slices"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A lockedThread is a goroutine locked to its own OS thread that runs the
// functions it is given, so that a test can pin a thread, look at it from the
// same thread, and restore it. Pin and Current act on the calling thread, so
// the restore cannot happen on the test goroutine: t.Cleanup asks the locked
// goroutine to restore its saved mask, check it, and only then unlock.
type lockedThread struct {
	do   chan func()
	done chan struct{}
}

func startLockedThread(t *testing.T) *lockedThread {
	t.Helper()
	lt := &lockedThread{do: make(chan func()), done: make(chan struct{})}
	var saved, restored []int
	var saveErr, restoreErr error
	ready := make(chan struct{})
	go func() {
		defer close(lt.done)
		runtime.LockOSThread()
		saved, saveErr = Current()
		close(ready)
		if saveErr != nil {
			return // still locked: the runtime discards the thread
		}
		for f := range lt.do {
			f()
		}
		if restoreErr = Pin(saved...); restoreErr != nil {
			return
		}
		if restored, restoreErr = Current(); restoreErr == nil && slices.Equal(restored, saved) {
			runtime.UnlockOSThread()
		}
	}()
	<-ready
	if saveErr != nil {
		<-lt.done
		t.Fatal(saveErr)
	}
	t.Cleanup(func() {
		close(lt.do)
		<-lt.done
		if restoreErr != nil {
			t.Errorf("restoring the thread's mask: %v", restoreErr)
		} else if !slices.Equal(restored, saved) {
			t.Errorf("thread's mask after restore = %v; want %v", restored, saved)
		}
	})
	return lt
}

// run calls f on the locked thread and waits for it.
func (lt *lockedThread) run(f func()) {
	done := make(chan struct{})
	lt.do <- func() { defer close(done); f() }
	<-done
}

// current returns Current() as seen from the locked thread.
func (lt *lockedThread) current(t *testing.T) []int {
	t.Helper()
	var cpus []int
	var err error
	lt.run(func() { cpus, err = Current() })
	if err != nil {
		t.Fatal(err)
	}
	return cpus
}

// getcpu asks the kernel which CPU the calling thread is running on.
func getcpu() (int, error) {
	var cpu uint32
	if _, _, errno := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); errno != 0 {
		return -1, errno
	}
	return int(cpu), nil
}

func mustAllowed(t *testing.T) []int {
	t.Helper()
	allowed, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) == 0 {
		t.Fatal("Allowed() is empty")
	}
	return allowed
}

func needTwoCPUs(t *testing.T) []int {
	t.Helper()
	allowed := mustAllowed(t)
	if len(allowed) < 2 {
		t.Skipf("only cpu %v is allowed; pinning cannot be told apart from not pinning", allowed)
	}
	return allowed
}
