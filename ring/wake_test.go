package ring_test

import (
	"context"
	"runtime"
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
			if !m.multi {
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

// TestCommitWakesParkedReaders drives readers that park at once through both of
// Commit's wake paths (all roots *PhasedWaiter, checked without an interface call;
// and a mix, through the Waiter interface), with one publisher and with several.
// The publisher commits one entry at a time and waits until every reader has
// acknowledged it, so a wake lost on any commit leaves that reader asleep: no later
// commit or Close can hide it.
func TestCommitWakesParkedReaders(t *testing.T) {
	rounds := scale(5000, 10)
	waiters := map[string]func() []ring.Waiter{
		"phased": func() []ring.Waiter { return []ring.Waiter{ring.NewPhasedWaiter(0, 0), ring.NewPhasedWaiter(0, 0)} },
		"mixed":  func() []ring.Waiter { return []ring.Waiter{ring.NewPhasedWaiter(0, 0), new(wakeCounter)} },
	}
	for _, m := range publisherModes() {
		for name, mk := range waiters {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				buf := mustNew[int](t, 8, m.opts...)
				defer buf.Close() // lets the readers end if the test fails early
				ws := mk()
				acks := make(chan int64, len(ws))
				for _, w := range ws {
					r := mustReader(t, buf, ring.ReaderWaiter(w), ring.Linger(0))
					go func() {
						for {
							lo, hi, err := r.Wait(context.Background())
							if err != nil {
								return
							}
							for s := lo; s < hi; s++ {
								if *buf.At(s) != int(s) {
									t.Errorf("slot %d = %d", s, *buf.At(s))
								}
							}
							r.Release(hi)
							acks <- hi
						}
					}()
				}
				timer := time.NewTimer(time.Hour)
				defer timer.Stop()
				for i := range rounds {
					lo, err := buf.Claim(context.Background(), 1)
					if err != nil {
						t.Fatal(err)
					}
					*buf.At(lo) = int(lo)
					for range i % 8 { // vary where the commit finds the readers on their way to sleep
						runtime.Gosched()
					}
					buf.Commit(lo, 1)
					timer.Reset(10 * time.Second)
					for range ws {
						select {
						case hi := <-acks:
							if hi != lo+1 {
								t.Fatalf("commit %d acknowledged up to %d", lo, hi)
							}
						case <-timer.C:
							t.Fatalf("a reader slept through commit %d", lo)
						}
					}
				}
			})
		}
	}
}
