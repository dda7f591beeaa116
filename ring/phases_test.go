package ring_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// countCalls returns a ready func that counts its calls in n and reports
// whether flag is set.
func countCalls(n *atomic.Int64, flag *atomic.Bool) func() bool {
	return func() bool {
		n.Add(1)
		return flag.Load()
	}
}

// minSpinPolls is the fewest polls a spin makes, however long the goroutine
// is descheduled meanwhile: it reads the clock only every 16 polls. Typically
// it makes thousands.
const minSpinPolls = 16

// waitWoken runs w.Wait on a condition that turns true, with a Wake, only
// after the given delay, and returns how many times Wait called ready.
func waitWoken(t *testing.T, w ring.Waiter, after time.Duration) int64 {
	t.Helper()
	var calls atomic.Int64
	var flag atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(after)
		flag.Store(true)
		w.Wake()
	}()
	if err := w.Wait(ctx, countCalls(&calls, &flag)); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	<-done
	return calls.Load()
}

// TestSpinBudgetGrantsWhatItsLimitSays waits for a condition that turns true
// only after the spin would have ended. A budget that grants nothing (the zero
// value, or a limit of 0 or below) must send the waiter to sleep at once: ready
// is called only around parking. A budget of one core lets it poll for the
// whole spin.
func TestSpinBudgetGrantsWhatItsLimitSays(t *testing.T) {
	const spin = time.Millisecond
	const parkCalls = 5 // before enlisting, after, after the wake; and some slack
	tests := []struct {
		name  string
		limit int // SetLimit's argument; 0 with zero set leaves the zero value
		set   bool
		spins bool
	}{
		{"zero value", 0, false, false},
		{"limit 0", 0, true, false},
		{"negative limit", -3, true, false},
		{"limit 1", 1, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b ring.SpinBudget
			if tt.set {
				b.SetLimit(tt.limit)
			}
			if got, want := b.Limit(), max(tt.limit, 0); got != want {
				t.Fatalf("Limit() = %d, want %d", got, want)
			}
			w := ring.NewWaiter(ring.WaitPhases{Spin: spin, Budget: &b})
			calls := waitWoken(t, w, 5*spin)
			t.Logf("ready called %d times", calls)
			if !tt.spins && calls > parkCalls {
				t.Fatalf("ready called %d times with nothing in the budget, want at most %d: the waiter spun", calls, parkCalls)
			}
			if tt.spins && calls < minSpinPolls {
				t.Fatalf("ready called %d times with a core in the budget and a %v spin, want it polled throughout", calls, spin)
			}
		})
	}
}

// TestSpinBudgetCapsSpinners starts many waiters at once on one budget, each
// polling a condition that stays false for longer than their spin, and counts
// how many are inside ready at the same moment, counting only the polls past
// the two that any waiter makes around parking. That number is the number of
// spinners, and must never exceed the limit. GOMAXPROCS is raised above the
// waiters' number so that an uncapped budget would let all of them spin,
// interleaved by the OS if not on cores of their own.
func TestSpinBudgetCapsSpinners(t *testing.T) {
	const waiters = 8
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(waiters + 1))
	for _, limit := range []int{1, 3} {
		t.Run("limit="+fmtInt(limit), func(t *testing.T) {
			var b ring.SpinBudget
			b.SetLimit(limit)
			var inside, most atomic.Int64
			var done atomic.Bool
			start := make(chan struct{})
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			w := ring.NewWaiter(ring.WaitPhases{Spin: 20 * time.Millisecond, Budget: &b})
			var wg sync.WaitGroup
			for range waiters {
				wg.Go(func() {
					calls := 0 // this waiter's
					ready := func() bool {
						calls++
						if done.Load() {
							return true
						}
						if calls > 2 {
							n := inside.Add(1)
							for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
							}
							// Stay a while, so that a spinner the OS or the Go
							// scheduler preempts is likely to be preempted here.
							for i := 0; i < 100 && !done.Load(); i++ {
							}
							inside.Add(-1)
						}
						return false
					}
					<-start
					if err := w.Wait(ctx, ready); err != nil {
						t.Error(err)
					}
				})
			}
			close(start)
			time.Sleep(30 * time.Millisecond) // every spin has ended: all are parked
			done.Store(true)
			w.Wake()
			wg.Wait()
			t.Logf("at most %d waiters spun at once, limit %d", most.Load(), limit)
			if m := most.Load(); m > int64(limit) {
				t.Fatalf("%d waiters spun at once, limit %d", m, limit)
			}
			if most.Load() == 0 {
				t.Fatal("no waiter spun at all: the test measured nothing")
			}
		})
	}
}

// TestSpinBudgetReleases checks that a spin gives its core back however it
// ends: the condition came true, the spin timed out, or ready panicked. With a
// limit of one, a waiter after each of those must still be granted the core
// and poll throughout its spin.
func TestSpinBudgetReleases(t *testing.T) {
	var b ring.SpinBudget
	b.SetLimit(1)
	spin := ring.WaitPhases{Spin: time.Millisecond, Budget: &b}
	ctx := context.Background()
	stillGranted := func(after string) {
		t.Helper()
		if calls := waitWoken(t, ring.NewWaiter(spin), 3*time.Millisecond); calls < minSpinPolls {
			t.Fatalf("after a spin that %s, the next waiter polled %d times: the core was not given back", after, calls)
		}
	}

	polls := 0
	if err := ring.NewWaiter(spin).Wait(ctx, func() bool { polls++; return polls > 10 }); err != nil {
		t.Fatal(err)
	}
	stillGranted("found its condition")

	stillGranted("timed out") // waitWoken's own spin timed out before the wake

	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("a panic in ready did not reach Wait's caller")
			}
		}()
		polls := 0
		_ = ring.NewWaiter(spin).Wait(ctx, func() bool {
			if polls++; polls > 10 {
				panic("ready")
			}
			return false
		})
	}()
	stillGranted("panicked")
	if b.Limit() != 1 {
		t.Fatalf("Limit() = %d after the spins, want 1", b.Limit())
	}
}

// TestSpinBudgetLowered lowers the limit while a waiter spins: the spinner
// goes on spinning to the end of its spin, and a new waiter is held to the new
// limit.
func TestSpinBudgetLowered(t *testing.T) {
	var b ring.SpinBudget
	b.SetLimit(2)
	var calls atomic.Int64
	var flag atomic.Bool
	spinning := ring.WaitPhases{Spin: time.Second, Budget: &b}
	first := ring.NewWaiter(spinning)
	defer first.Wake() // if the test fails before the flag is set
	defer flag.Store(true)
	errc := make(chan error, 1)
	go func() { errc <- first.Wait(context.Background(), countCalls(&calls, &flag)) }()
	for calls.Load() < 10 {
		runtime.Gosched()
	}
	b.SetLimit(1) // one core in use: none left for a second spinner
	if n := waitWoken(t, ring.NewWaiter(spinning), 2*time.Millisecond); n > 5 {
		t.Fatalf("a waiter after SetLimit(1), with one waiter spinning, called ready %d times: it spun", n)
	}
	flag.Store(true) // with no Wake: only a waiter still spinning sees it
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(hang):
		t.Fatal("the first waiter stopped spinning when the limit was lowered")
	}
}

// recordingWaiter is a Waiter that records when it was asked to wait: how many
// times ready had been called by then. Its Wait polls.
type recordingWaiter struct {
	calls     *atomic.Int64
	waits     atomic.Int64
	callsSeen atomic.Int64 // calls when Wait was last entered
	wakes     atomic.Int64
}

func (w *recordingWaiter) Wait(ctx context.Context, ready func() bool) error {
	w.waits.Add(1)
	w.callsSeen.Store(w.calls.Load())
	for !ready() {
		if err := ctx.Err(); err != nil {
			return err
		}
		runtime.Gosched()
	}
	return nil
}

func (w *recordingWaiter) Wake() { w.wakes.Add(1) }

// TestPhasesBefore checks WaitPhases.Before: the phases run first, in full,
// and only then does the inner Waiter's Wait begin; a condition found during
// the phases never reaches it; Wake is the inner Waiter's.
func TestPhasesBefore(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	t.Run("yield", func(t *testing.T) {
		var calls atomic.Int64
		inner := &recordingWaiter{calls: &calls}
		w := ring.WaitPhases{Yield: 7}.Before(inner)
		ready := func() bool { return calls.Add(1) > 8 } // true on the inner Wait's second poll
		if err := w.Wait(ctx, ready); err != nil {
			t.Fatal(err)
		}
		if inner.waits.Load() != 1 || inner.callsSeen.Load() != 7 {
			t.Fatalf("inner Wait entered %d times, after %d polls; want once, after the 7 polls of the yield phase",
				inner.waits.Load(), inner.callsSeen.Load())
		}
	})
	t.Run("spin", func(t *testing.T) {
		var calls atomic.Int64
		inner := &recordingWaiter{calls: &calls}
		const spin = 2 * time.Millisecond
		w := ring.WaitPhases{Spin: spin}.Before(inner) // nil budget: spins without a cap
		start := time.Now()
		var sinceStart time.Duration
		ready := func() bool {
			calls.Add(1)
			if inner.waits.Load() > 0 {
				sinceStart = time.Since(start)
				return true
			}
			return false
		}
		if err := w.Wait(ctx, ready); err != nil {
			t.Fatal(err)
		}
		if sinceStart < spin || inner.callsSeen.Load() < minSpinPolls {
			t.Fatalf("inner Wait entered after %v and %d polls, want after the %v spin", sinceStart, inner.callsSeen.Load(), spin)
		}
	})
	t.Run("ready during the phases", func(t *testing.T) {
		var calls atomic.Int64
		inner := &recordingWaiter{calls: &calls}
		w := ring.WaitPhases{Spin: time.Millisecond, Yield: 5}.Before(inner)
		if err := w.Wait(ctx, func() bool { return calls.Add(1) > 3 }); err != nil {
			t.Fatal(err)
		}
		if n := inner.waits.Load(); n != 0 {
			t.Fatalf("inner Wait entered %d times though the condition held during the spin", n)
		}
	})
	t.Run("no phases", func(t *testing.T) {
		var calls atomic.Int64
		inner := &recordingWaiter{calls: &calls}
		w := ring.WaitPhases{}.Before(inner)
		if err := w.Wait(ctx, func() bool { return calls.Add(1) > 0 }); err != nil {
			t.Fatal(err)
		}
		if inner.waits.Load() != 1 || inner.callsSeen.Load() != 0 {
			t.Fatalf("inner Wait entered %d times after %d polls, want at once", inner.waits.Load(), inner.callsSeen.Load())
		}
	})
	t.Run("wake", func(t *testing.T) {
		inner := &recordingWaiter{calls: new(atomic.Int64)}
		w := ring.WaitPhases{Spin: time.Millisecond, Yield: 3}.Before(inner)
		w.Wake()
		w.Wake()
		if n := inner.wakes.Load(); n != 2 {
			t.Fatalf("inner Waiter woken %d times, want 2", n)
		}
	})
	t.Run("context", func(t *testing.T) {
		inner := &recordingWaiter{calls: new(atomic.Int64)}
		w := ring.WaitPhases{Yield: 3}.Before(inner)
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if err := w.Wait(done, func() bool { return false }); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v, want the inner Waiter's context.Canceled", err)
		}
	})
}

// TestPhasesBeforeWithRing runs a ring's reader on a phased sleep around a
// Waiter of its own, as a stage sleeps in its event loop: every commit must
// arrive, whether the reader finds it in the phases or in the inner Wait.
func TestPhasesBeforeWithRing(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 8, m.opts...)
			inner := &recordingWaiter{calls: new(atomic.Int64)}
			r := mustReader(t, b, ring.ReaderWaiter(ring.WaitPhases{Yield: 2}.Before(inner)), ring.Linger(0))
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			const n = 200
			go func() {
				for i := range n {
					lo, err := b.Claim(ctx, 1)
					if err != nil {
						t.Error(err)
						return
					}
					*b.At(lo) = i
					b.Commit(lo, 1)
					if i%16 == 0 {
						time.Sleep(50 * time.Microsecond)
					}
				}
				b.Close()
			}()
			got, err := readToEnd(ctx, r)
			if err != nil || got != n {
				t.Fatalf("read %d entries, %v; want %d", got, err, n)
			}
			if inner.wakes.Load() == 0 {
				t.Fatal("commits never woke the inner Waiter")
			}
		})
	}
}

// TestNegativePhasesPanic checks that negative phases are refused where they
// are given, with a ring: message.
func TestNegativePhasesPanic(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"NewWaiter spin", func() { ring.NewWaiter(ring.WaitPhases{Spin: -1}) }},
		{"NewWaiter yield", func() { ring.NewWaiter(ring.WaitPhases{Yield: -1}) }},
		{"Before spin", func() { ring.WaitPhases{Spin: -time.Second}.Before(new(ring.PhasedWaiter)) }},
		{"Before yield", func() { ring.WaitPhases{Yield: -2}.Before(new(ring.PhasedWaiter)) }},
		{"Before nil", func() { ring.WaitPhases{}.Before(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				s, _ := recover().(string)
				if !strings.HasPrefix(s, "ring: ") {
					t.Fatalf("recovered %q, want a panic prefixed with \"ring: \"", s)
				}
			}()
			tt.f()
		})
	}
}
