package ring_test

import (
	"context"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// TestZeroAllocs checks that claim, commit, read and release allocate nothing,
// including the blocking paths' fast exits.
func TestZeroAllocs(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[[4]int64](t, 64, m.opts...)
			a := mustReader(t, b)
			d := mustReader(t, b, ring.After(a))
			ctx := context.Background()
			cycle := func() {
				lo, err := b.Claim(ctx, 3)
				if err != nil {
					panic(err)
				}
				b.At(lo)[0] = lo
				b.Commit(lo, 3)
				lo2, ok := b.TryClaim(1)
				if !ok {
					panic("TryClaim failed")
				}
				b.Commit(lo2, 1)
				for _, r := range []*ring.Reader{a, d} {
					lo, hi, err := r.Wait(ctx)
					if err != nil {
						panic(err)
					}
					if _, _, ok := r.TryRead(); !ok || hi-lo != 4 {
						panic("TryRead after Wait")
					}
					r.Release(hi)
				}
				_ = b.Len()
			}
			cycle()
			if n := testing.AllocsPerRun(1000, cycle); n != 0 {
				t.Fatalf("%v allocs per claim/commit/read/release cycle, want 0", n)
			}
		})
	}
}

// TestLingerZeroAllocs checks that a Wait that lingers for several pauses, as
// it does while the publisher keeps pace (see TestLingerFollowsThePace),
// allocates nothing.
func TestLingerZeroAllocs(t *testing.T) {
	buf := mustNew[int](t, 4096)
	r := mustReader(t, buf, ring.Linger(10*time.Microsecond))
	clock := &pacedClock{buf: buf, tick: time.Microsecond, rate: 10}
	ring.SetClock(r, clock.read)
	ctx := context.Background()
	cycle := func() {
		clock.read() // commits the entries that make the next Wait's range short
		lo, hi, err := r.Wait(ctx)
		if err != nil || hi-lo < 1000 {
			panic("Wait did not linger on")
		}
		r.Release(hi)
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Fatalf("%v allocs per lingering Wait, want 0", n)
	}
}

// TestPhasesZeroAllocs checks that waiting through the phases allocates
// nothing: a condition already true, one found during the spin (with and
// without a budget) or during the yields, with NewWaiter and with
// WaitPhases.Before.
func TestPhasesZeroAllocs(t *testing.T) {
	var budget ring.SpinBudget
	budget.SetLimit(1)
	// A spin long enough never to end before the condition holds: a waiter
	// whose spin ran out would park, and nothing here wakes it.
	phases := ring.WaitPhases{Spin: time.Minute, Budget: &budget, Yield: 4}
	var polls int
	var after int // ready reports true from this poll on
	ready := func() bool { polls++; return polls > after }
	ctx := context.Background()
	waiters := map[string]ring.Waiter{
		"NewWaiter":          ring.NewWaiter(phases),
		"NewWaiter/unbudget": ring.NewWaiter(ring.WaitPhases{Spin: time.Minute, Yield: 4}),
		"Before":             phases.Before(ring.NewPhasedWaiter(0, 0)),
	}
	for name, w := range waiters {
		for _, n := range []int{0, 3, 40} { // at once, in the spin, well into it
			t.Run(name+"/after="+fmtInt(n), func(t *testing.T) {
				after = n
				wait := func() {
					polls = 0
					if err := w.Wait(ctx, ready); err != nil {
						panic(err)
					}
				}
				wait()
				if a := testing.AllocsPerRun(1000, wait); a != 0 {
					t.Fatalf("%v allocs per Wait, want 0", a)
				}
			})
		}
	}
	budget.SetLimit(0) // no spin: the condition is found during the yields
	t.Run("yield", func(t *testing.T) {
		w := ring.NewWaiter(phases)
		after = 2
		wait := func() {
			polls = 0
			if err := w.Wait(ctx, ready); err != nil {
				panic(err)
			}
		}
		if a := testing.AllocsPerRun(1000, wait); a != 0 {
			t.Fatalf("%v allocs per Wait, want 0", a)
		}
	})
}

// TestCommitQuietZeroAllocs checks the deferred-wake cycle in steady state:
// claim, CommitQuiet, WakeReaders, read and release allocate nothing.
func TestCommitQuietZeroAllocs(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[[4]int64](t, 64, m.opts...)
			r := mustReader(t, b)
			phased := mustReader(t, b, ring.ReaderWaiter(ring.NewWaiter(ring.WaitPhases{Yield: 1})))
			ctx := context.Background()
			cycle := func() {
				for range 2 {
					lo, err := b.Claim(ctx, 2)
					if err != nil {
						panic(err)
					}
					b.At(lo)[0] = lo
					b.CommitQuiet(lo, 2)
				}
				if b.WakeReaders() {
					panic("WakeReaders reported a parked reader")
				}
				for _, rd := range []*ring.Reader{r, phased} {
					_, hi, err := rd.Wait(ctx)
					if err != nil {
						panic(err)
					}
					rd.Release(hi)
				}
			}
			cycle()
			if n := testing.AllocsPerRun(1000, cycle); n != 0 {
				t.Fatalf("%v allocs per claim/CommitQuiet/WakeReaders/read/release cycle, want 0", n)
			}
		})
	}
}
