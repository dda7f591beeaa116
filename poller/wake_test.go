package poller

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// watchdog bounds a test that would otherwise hang on a lost wakeup.
const watchdog = 20 * time.Second

func TestWakeAwakeLoopDoesNotWrite(t *testing.T) {
	l := newLoop(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range scale(10000) {
				l.Wake()
			}
		})
	}
	wg.Wait()
	if s := l.Stats(); s.Wakeups != 0 || s.Sleeps != 0 {
		t.Fatalf("Stats() = %+v after waking a loop that never slept, want zero", s)
	}
}

func TestWakeCoalesces(t *testing.T) {
	l := newLoop(t)
	const wakers = 8
	perWaker := scale(20000)
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	runErr := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		runErr <- l.Run(ctx)
	}()
	var wg sync.WaitGroup
	for range wakers {
		wg.Go(func() {
			for range perWaker {
				l.Wake()
			}
		})
	}
	wg.Wait()
	l.Stop()
	if err := <-runErr; err != nil {
		t.Fatalf("Run = %v, want nil after Stop", err)
	}
	s := l.Stats()
	calls := uint64(wakers*perWaker + 1)
	t.Logf("%d Wake calls, %+v", calls, s)
	// Only the Wake that moves a sleeping loop to woken writes, so there is at
	// most one write per sleep, however many goroutines call Wake.
	if s.Wakeups > s.Sleeps {
		t.Errorf("Wakeups = %d > Sleeps = %d: a sleep was woken more than once", s.Wakeups, s.Sleeps)
	}
	if s.Wakeups >= calls {
		t.Errorf("Wakeups = %d for %d Wake calls: nothing coalesced", s.Wakeups, calls)
	}
}

// TestWaitPingPong hands a counter back and forth between two loops, each
// waiting for the other's store; a lost wakeup hangs one side until the
// watchdog context fails the test.
func TestWaitPingPong(t *testing.T) {
	a, b := newLoop(t), newLoop(t)
	n := int64(scale(20000))
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	var ping, pong atomic.Int64
	errs := make(chan error, 2)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := int64(1); i <= n; i++ {
			if err := b.Wait(ctx, func() bool { return ping.Load() >= i }); err != nil {
				errs <- err
				return
			}
			pong.Store(i)
			a.Wake()
		}
		errs <- nil
	}()
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := int64(1); i <= n; i++ {
			ping.Store(i)
			b.Wake()
			if err := a.Wait(ctx, func() bool { return pong.Load() >= i }); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("ping-pong stalled at ping=%d pong=%d of %d: %v", ping.Load(), pong.Load(), n, err)
		}
	}
	t.Logf("a: %+v, b: %+v", a.Stats(), b.Stats())
}

// TestWaitManyProducers has several goroutines add to a counter and Wake the
// consumer, which waits for each next value in turn.
func TestWaitManyProducers(t *testing.T) {
	l := newLoop(t)
	const producers = 4
	per := int64(scale(5000))
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	var count atomic.Int64
	var wg sync.WaitGroup
	for range producers {
		wg.Go(func() {
			for range per {
				count.Add(1)
				l.Wake()
				if count.Load()%64 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	defer wg.Wait()
	for want := int64(1); want <= producers*per; want++ {
		if err := l.Wait(ctx, func() bool { return count.Load() >= want }); err != nil {
			t.Fatalf("Wait for %d: %v (count %d)", want, err, count.Load())
		}
	}
}

func TestWaitReadyReturnsAtOnce(t *testing.T) {
	l := newLoop(t)
	calls := 0
	err := l.Wait(context.Background(), func() bool { calls++; return true })
	if err != nil || calls != 1 {
		t.Fatalf("Wait = %v after %d ready calls, want nil after 1", err, calls)
	}
	if s := l.Stats(); s.Sleeps != 0 {
		t.Fatalf("Sleeps = %d, want 0", s.Sleeps)
	}
}

// TestWaitContext checks that a Wait whose condition never holds ends with its
// context's error, however the context ends.
func TestWaitContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func(t *testing.T, l *Loop) context.Context // the context to wait with
		want error
	}{
		{"cancelled", func(t *testing.T, l *Loop) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, context.Canceled},
		{"cancel while asleep", func(t *testing.T, l *Loop) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				for l.Stats().Sleeps == 0 {
					time.Sleep(time.Millisecond)
				}
				cancel()
			}()
			return ctx
		}, context.Canceled},
		{"deadline", func(t *testing.T, l *Loop) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, context.DeadlineExceeded},
		{"stop does not end wait", func(t *testing.T, l *Loop) context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			t.Cleanup(cancel)
			l.Stop()
			return ctx
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLoop(t)
			if err := l.Wait(tc.ctx(t, l), func() bool { return false }); !errors.Is(err, tc.want) {
				t.Fatalf("Wait = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestZeroAllocs(t *testing.T) {
	l := newLoop(t)
	if n := testing.AllocsPerRun(1000, l.Wake); n != 0 {
		t.Errorf("Wake on an awake loop: %v allocs, want 0", n)
	}
	yes := func() bool { return true }
	if n := testing.AllocsPerRun(1000, func() { _ = l.Wait(context.Background(), yes) }); n != 0 {
		t.Errorf("Wait(Background, ready): %v allocs, want 0", n)
	}
	// A wait that sleeps until a periodic timer fires allocates nothing
	// either; the timer is created outside the measured function.
	var flag bool
	tick := l.Every(time.Millisecond, func() { flag = true })
	defer tick.Stop()
	sleeps := l.Stats().Sleeps
	if n := testing.AllocsPerRun(20, func() {
		flag = false
		_ = l.Wait(context.Background(), func() bool { return flag })
	}); n != 0 {
		t.Errorf("Wait(Background) through a sleep: %v allocs, want 0", n)
	}
	if l.Stats().Sleeps == sleeps {
		t.Error("Wait never slept; the measurement above is void")
	}
}

func TestStateIsolatedOnItsOwnCacheLine(t *testing.T) {
	var l Loop
	pad := unsafe.Sizeof(cpu.CacheLinePad{})
	ownerEnd := unsafe.Offsetof(l.closed) + unsafe.Sizeof(l.closed)
	if got := unsafe.Offsetof(l.state) - ownerEnd; got < pad {
		t.Errorf("state is %d bytes after the owner's fields, want at least %d", got, pad)
	}
	stateEnd := unsafe.Offsetof(l.writers) + unsafe.Sizeof(l.writers)
	if got := unsafe.Offsetof(l.stop) - stateEnd; got < pad {
		t.Errorf("stop is %d bytes after state, want at least %d", got, pad)
	}
}

// TestWakeWritesDrained writes the wake descriptor many times with no sleep to
// end, as wakes that race an owner on its way back from a sleep can, and checks
// that one step of the loop takes them all: the next sleep lasts its whole
// timeout. Each mechanism does this its own way (reading the eventfd resets its
// counter, EV_CLEAR merges user-event triggers, the pipe is read until empty),
// and a wake left behind would make every later sleep return at once.
func TestWakeWritesDrained(t *testing.T) {
	l := newLoop(t)
	// More bytes than the pipe waker reads at a time, fewer than any pipe holds.
	for range 1000 {
		if err := l.writeWaker(); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Poll(0); err != nil {
		t.Fatal(err)
	}
	const sleep = 20 * time.Millisecond
	start := time.Now()
	if err := l.Poll(sleep); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < sleep {
		t.Fatalf("Poll(%v) after the drain returned after %v: a wake was left behind", sleep, d)
	}
}
