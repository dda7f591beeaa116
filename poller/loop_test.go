package poller

import (
	"context"
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestStopEndsRunFromSleep(t *testing.T) {
	l := newLoop(t)
	runErr := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		runErr <- l.Run(context.Background())
	}()
	for l.Stats().Sleeps == 0 {
		time.Sleep(time.Millisecond)
	}
	// Give the loop time to be deep in epoll_pwait/kevent, not just announced.
	time.Sleep(10 * time.Millisecond)
	l.Stop()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(watchdog):
		t.Fatal("Run did not return after Stop")
	}
	if s := l.Stats(); s.Wakeups == 0 {
		t.Errorf("Stats() = %+v: Stop ended a sleep without a write", s)
	}
}

func TestStopIsStickyUntilRunReturns(t *testing.T) {
	l := newLoop(t)
	l.Stop()
	if err := l.Run(context.Background()); err != nil {
		t.Fatalf("Run after Stop = %v, want nil at once", err)
	}
	// Run consumed the Stop: the next Run runs until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Run = %v, want context.DeadlineExceeded", err)
	}
}

func TestRunContext(t *testing.T) {
	l := newLoop(t)
	ctx, cancel := context.WithCancel(context.Background())
	fired := 0
	l.Every(time.Millisecond, func() {
		if fired++; fired == 3 {
			cancel()
		}
	})
	if err := l.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if fired != 3 {
		t.Fatalf("timer fired %d times, want Run to return right after the third", fired)
	}
	if err := l.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run on a done context = %v, want context.Canceled", err)
	}
}

func TestPollTimeout(t *testing.T) {
	l := newLoop(t)
	start := time.Now()
	if err := l.Poll(15 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Fatalf("Poll(15ms) returned after %v", d)
	}
	if err := l.Poll(0); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Sleeps != 1 {
		t.Fatalf("Sleeps = %d, want 1 (Poll(0) does not sleep)", s.Sleeps)
	}
}

func TestPollWokenFromAnotherGoroutine(t *testing.T) {
	l := newLoop(t)
	go func() {
		for l.Stats().Sleeps == 0 {
			time.Sleep(time.Millisecond)
		}
		l.Wake()
	}()
	if err := l.Poll(-1); err != nil {
		t.Fatal(err)
	}
	if s := l.Stats(); s.Wakeups != 1 {
		t.Fatalf("Stats() = %+v, want exactly one wakeup", s)
	}
}

func TestClose(t *testing.T) {
	l, err := New()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	tm := l.AfterFunc(time.Hour, func() {})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	if tm.Stop() {
		t.Error("Stop of a timer dropped by Close = true")
	}
	l.Wake()
	l.Stop()
	never := func() bool { return false }
	for name, err := range map[string]error{
		"Poll":   l.Poll(0),
		"Wait":   l.Wait(context.Background(), never),
		"Run":    l.Run(context.Background()),
		"Add":    l.Add(0, Readable, func(int, Events) {}),
		"Modify": l.Modify(0, Readable),
		"Remove": l.Remove(0),
	} {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("%s after Close = %v, want os.ErrClosed", name, err)
		}
	}
}

func TestReentrantPollPanics(t *testing.T) {
	l := newLoop(t)
	l.AfterFunc(0, func() {
		defer func() {
			if recover() == nil {
				t.Error("Poll from a timer callback did not panic")
			}
		}()
		l.Poll(0)
	})
	if err := l.Poll(0); err != nil {
		t.Fatal(err)
	}
	// The loop is still usable afterwards.
	ran := false
	l.AfterFunc(0, func() { ran = true })
	if err := l.Poll(0); err != nil || !ran {
		t.Fatalf("Poll after a recovered panic = %v, timer ran %v", err, ran)
	}
}

func TestEventsString(t *testing.T) {
	for _, tc := range []struct {
		ev   Events
		want string
	}{
		{0, "0"},
		{Readable, "Readable"},
		{Readable | Hangup, "Readable|Hangup"},
		{Readable | Writable | Hangup | Error, "Readable|Writable|Hangup|Error"},
		{Error | 0x40, "Error|0x40"},
		{0x80, "0x80"},
	} {
		if got := tc.ev.String(); got != tc.want {
			t.Errorf("Events(%#x).String() = %q, want %q", uint8(tc.ev), got, tc.want)
		}
	}
}
