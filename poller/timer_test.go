package poller

import (
	"context"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// pollUntil drives l until cond holds, failing the test after the watchdog.
func pollUntil(t *testing.T, l *Loop, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	defer cancel()
	if err := l.Wait(ctx, cond); err != nil {
		t.Fatal(err)
	}
}

func TestTimersFireInDeadlineOrder(t *testing.T) {
	l := newLoop(t)
	var got []string
	add := func(d time.Duration, name string) {
		l.AfterFunc(d, func() { got = append(got, name) })
	}
	add(30*time.Millisecond, "30ms")
	add(10*time.Millisecond, "10ms-a")
	add(20*time.Millisecond, "20ms")
	add(10*time.Millisecond, "10ms-b")
	add(-time.Second, "now")
	start := time.Now()
	pollUntil(t, l, func() bool { return len(got) == 5 })
	want := []string{"now", "10ms-a", "10ms-b", "20ms", "30ms"}
	if !slices.Equal(got, want) {
		t.Fatalf("fired %v, want %v", got, want)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Fatalf("last timer fired after %v, before its 30ms deadline", d)
	}
}

func TestEveryRepeatsAndStopsItself(t *testing.T) {
	l := newLoop(t)
	n := 0
	var tm *Timer
	stopped := false
	tm = l.Every(2*time.Millisecond, func() {
		if n++; n == 5 {
			stopped = tm.Stop()
		}
	})
	pollUntil(t, l, func() bool { return n == 5 })
	if !stopped {
		t.Error("Stop of a periodic timer from its callback = false, want true")
	}
	if tm.Stop() {
		t.Error("second Stop = true, want false")
	}
	l.Poll(10 * time.Millisecond)
	if n != 5 {
		t.Fatalf("periodic timer ran %d times, want 5 (it ran after Stop)", n)
	}
}

func TestEveryPanicsOnNonPositivePeriod(t *testing.T) {
	l := newLoop(t)
	for _, d := range []time.Duration{0, -time.Second} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Every(%v) did not panic", d)
				}
			}()
			l.Every(d, func() {})
		}()
	}
}

func TestTimerStop(t *testing.T) {
	l := newLoop(t)
	fired := map[string]bool{}
	a := l.AfterFunc(time.Millisecond, func() { fired["a"] = true })
	b := l.AfterFunc(time.Millisecond, func() { fired["b"] = true })
	if !a.Stop() {
		t.Fatal("Stop of a pending timer = false")
	}
	if a.Stop() {
		t.Fatal("second Stop = true")
	}
	pollUntil(t, l, func() bool { return fired["b"] })
	l.Poll(5 * time.Millisecond)
	if fired["a"] {
		t.Fatal("stopped timer fired")
	}
	if b.Stop() {
		t.Fatal("Stop of a timer that has fired = true")
	}
}

func TestTimerCallbacksAddTimers(t *testing.T) {
	l := newLoop(t)
	depth := 0
	var next func()
	next = func() {
		if depth++; depth < 100 {
			l.AfterFunc(0, next)
		}
	}
	l.AfterFunc(0, next)
	// Each round runs the timers due when it started; the one a callback adds
	// waits for the next round, so a self-renewing timer cannot trap Poll.
	if err := l.Poll(0); err != nil {
		t.Fatal(err)
	}
	if depth != 1 {
		t.Fatalf("one Poll ran %d generations of timers, want 1", depth)
	}
	pollUntil(t, l, func() bool { return depth == 100 })
	if len(l.timers) != 0 {
		t.Fatalf("%d timers left pending", len(l.timers))
	}
}

// TestTimerHeapMatchesSortedSlice checks the heap against a reference: a slice
// kept sorted by (when, seq), under random pushes, removals and pops.
func TestTimerHeapMatchesSortedSlice(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var h timerHeap
		var ref []*Timer
		var seq uint64
		byKey := func(a, b *Timer) int {
			if a.when != b.when {
				return int(a.when - b.when)
			}
			return int(a.seq) - int(b.seq)
		}
		rt.Repeat(map[string]func(*rapid.T){
			"push": func(rt *rapid.T) {
				tm := &Timer{when: rapid.Int64Range(0, 20).Draw(rt, "when"), seq: seq}
				seq++
				h.push(tm)
				ref = append(ref, tm)
				slices.SortFunc(ref, byKey)
			},
			"remove": func(rt *rapid.T) {
				if len(ref) == 0 {
					rt.Skip("empty")
				}
				tm := ref[rapid.IntRange(0, len(ref)-1).Draw(rt, "i")]
				h.remove(tm.index)
				ref = slices.DeleteFunc(ref, func(x *Timer) bool { return x == tm })
				if tm.index != -1 {
					rt.Fatalf("removed timer has index %d", tm.index)
				}
			},
			"pop": func(rt *rapid.T) {
				if len(ref) == 0 {
					rt.Skip("empty")
				}
				if h[0] != ref[0] {
					rt.Fatalf("heap top (%d,%d), want (%d,%d)", h[0].when, h[0].seq, ref[0].when, ref[0].seq)
				}
				h.remove(0)
				ref = ref[1:]
			},
			"": func(rt *rapid.T) {
				if len(h) != len(ref) {
					rt.Fatalf("heap has %d timers, reference %d", len(h), len(ref))
				}
				for i, tm := range h {
					if tm.index != i {
						rt.Fatalf("timer at %d has index %d", i, tm.index)
					}
					if i > 0 && h.less(i, (i-1)/2) {
						rt.Fatalf("heap order broken at %d", i)
					}
				}
			},
		})
	})
}
