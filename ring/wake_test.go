package ring_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// countingWaiter records Wake calls; its Wait polls without sleeping.
type countingWaiter struct{ wakes int }

func (w *countingWaiter) Wait(ctx context.Context, ready func() bool) error {
	for !ready() {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

func (w *countingWaiter) Wake() { w.wakes++ }

// TestWakeRules pins down who wakes whom, which the stage runtime relies on:
// Commit wakes the readers without upstreams, Release wakes the dependents
// (or, for a reader nobody depends on, the publisher waiter: always with several
// publishers, only for a blocked claim with one), Close wakes all.
func TestWakeRules(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			pub := new(countingWaiter)
			buf := mustNew[int](t, 8, append(m.opts, ring.PublisherWaiter(pub))...)
			ws := map[string]*countingWaiter{}
			mk := func(name string, after ...*ring.Reader) *ring.Reader {
				ws[name] = new(countingWaiter)
				return mustReader(t, buf, ring.ReaderWaiter(ws[name]), ring.After(after...))
			}
			a := mk("a")
			b := mk("b", a)
			c := mk("c", a)
			d := mk("d", b, c)
			solo := mk("solo")
			if d.Waiter() != ws["d"] {
				t.Fatal("Waiter() does not return the configured waiter")
			}
			check := func(step string, want map[string]int, wantPub int) {
				t.Helper()
				for name, w := range ws {
					if w.wakes != want[name] {
						t.Errorf("after %s: %s woken %d times, want %d", step, name, w.wakes, want[name])
					}
					w.wakes = 0
				}
				if pub.wakes != wantPub {
					t.Errorf("after %s: publisher woken %d times, want %d", step, pub.wakes, wantPub)
				}
				pub.wakes = 0
			}
			lo, _ := buf.TryClaim(2)
			check("claim", nil, 0)
			buf.Commit(lo, 2)
			check("commit", map[string]int{"a": 1, "solo": 1}, 0)
			release := func(r *ring.Reader) {
				_, hi, err := r.Wait(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				r.Release(hi)
			}
			release(a)
			check("release a", map[string]int{"b": 1, "c": 1}, 0)
			release(b)
			check("release b", map[string]int{"d": 1}, 0)
			release(c)
			check("release c", map[string]int{"d": 1}, 0)
			// Nobody is blocked: a single publisher is not woken at all.
			gatingWakes := 1
			if m.name == "single" {
				gatingWakes = 0
			}
			release(d)
			check("release d", nil, gatingWakes)
			release(solo)
			check("release solo", nil, gatingWakes)
			buf.Close()
			check("close", map[string]int{"a": 1, "b": 1, "c": 1, "d": 1, "solo": 1}, 1)
			buf.Close()
			check("second close", nil, 0)
		})
	}
}

// wakeCounter counts Wake calls and sleeps on a PhasedWaiter.
type wakeCounter struct {
	ring.PhasedWaiter
	wakes atomic.Int64
}

func (w *wakeCounter) Wake() {
	w.wakes.Add(1)
	w.PhasedWaiter.Wake()
}

// TestBlockedClaimWaitsForAQuarter checks the single publisher's hysteresis: a
// claim blocked on a full ring is woken once, when a quarter of the ring is free,
// not on the first release.
func TestBlockedClaimWaitsForAQuarter(t *testing.T) {
	pub := new(wakeCounter)
	buf := mustNew[int](t, 16, ring.PublisherWaiter(pub))
	r := mustReader(t, buf, ring.MaxBatch(1))
	lo, _ := buf.TryClaim(16)
	buf.Commit(lo, 16)
	claimed := make(chan int64, 1)
	go func() {
		lo, err := buf.Claim(context.Background(), 1)
		if err != nil {
			t.Error(err)
		}
		claimed <- lo
	}()
	releaseOne := func() {
		_, hi, ok := r.TryRead()
		if !ok {
			t.Fatal("nothing to read")
		}
		r.Release(hi)
	}
	for i := range 3 {
		time.Sleep(10 * time.Millisecond) // let the claim block
		releaseOne()
		select {
		case <-claimed:
			t.Fatalf("claim returned after %d releases; it waits for 4 (a quarter of 16)", i+1)
		default:
		}
		if n := pub.wakes.Load(); n != 0 {
			t.Fatalf("publisher woken %d times after %d releases, want 0", n, i+1)
		}
	}
	releaseOne()
	select {
	case got := <-claimed:
		if got != 16 {
			t.Fatalf("claimed %d, want 16", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("claim not woken once a quarter of the ring was free")
	}
	if n := pub.wakes.Load(); n != 1 {
		t.Fatalf("publisher woken %d times, want 1", n)
	}
	buf.Commit(16, 1)
}

// TestCommitWakesParkedReaders runs readers that park at once, so that nearly
// every Commit finds them asleep, through both of Commit's wake paths: all
// roots *PhasedWaiter (checked without an interface call) and a mix (through
// the Waiter interface). A lost wake leaves a reader asleep: the ring fills and
// the publisher's claim times out.
func TestCommitWakesParkedReaders(t *testing.T) {
	rounds := scale(2000, 10)
	cases := map[string][]ring.Waiter{
		"phased": {ring.NewPhasedWaiter(0, 0), ring.NewPhasedWaiter(0, 0)},
		"mixed":  {ring.NewPhasedWaiter(0, 0), new(wakeCounter)},
	}
	for name, waiters := range cases {
		t.Run(name, func(t *testing.T) {
			buf := mustNew[int](t, 8)
			defer buf.Close() // lets the readers end if the test fails early
			done := make(chan int, len(waiters))
			for _, w := range waiters {
				r := mustReader(t, buf, ring.ReaderWaiter(w), ring.Linger(0))
				go func() {
					seen := 0
					for {
						lo, hi, err := r.Wait(context.Background())
						if err != nil {
							done <- seen
							return
						}
						for s := lo; s < hi; s++ {
							if *buf.At(s) != int(s) {
								t.Errorf("slot %d = %d", s, *buf.At(s))
							}
						}
						seen += int(hi - lo)
						r.Release(hi)
					}
				}()
			}
			// Readers asleep through a commit never release, so the ring fills
			// and the claim times out.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for i := range rounds {
				lo, err := buf.Claim(ctx, 1)
				if err != nil {
					t.Fatalf("claim %d: %v: a reader slept through a commit", i, err)
				}
				*buf.At(lo) = i
				buf.Commit(lo, 1)
				if i%64 == 0 {
					time.Sleep(50 * time.Microsecond) // let the readers catch up and park
				}
			}
			buf.Close()
			for range waiters {
				select {
				case seen := <-done:
					if seen != rounds {
						t.Fatalf("a reader saw %d entries, want %d", seen, rounds)
					}
				case <-time.After(30 * time.Second):
					t.Fatal("a reader is still asleep: a wake was lost")
				}
			}
		})
	}
}
