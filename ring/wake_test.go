package ring_test

import (
	"context"
	"errors"
	"strings"
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
			if ring.WaiterOf(d) != ws["d"] {
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
				var readers []*ring.Reader
				for _, w := range mk() {
					readers = append(readers, mustReader(t, buf, ring.ReaderWaiter(w), ring.Linger(0)))
				}
				commitEach(t, context.Background(), buf, readers, rounds, 8)
			})
		}
	}
}

// waitParked waits until a goroutine is parked on w, then a while longer, so
// that a waiter that settles (see TestSettleCatchesAMissedCommit) has settled
// and sleeps until woken.
func waitParked(t *testing.T, w *ring.PhasedWaiter) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for ring.Sleepers(w) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the reader never parked")
		}
		time.Sleep(100 * time.Microsecond)
	}
	time.Sleep(5 * time.Millisecond)
}

// TestCommitQuietLeavesReadersAsleep parks a reader, commits quietly and
// checks that the reader sleeps on (a deferred wake stays deferred) until
// WakeReaders, which reports that it was parked and hands it the whole range.
func TestCommitQuietLeavesReadersAsleep(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 16, m.opts...)
			w := ring.NewWaiter(ring.WaitPhases{}) // parks at once
			r := mustReader(t, b, ring.ReaderWaiter(w), ring.Linger(0))
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			type batch struct {
				lo, hi int64
				err    error
			}
			got := make(chan batch, 1)
			go func() {
				lo, hi, err := r.Wait(ctx)
				got <- batch{lo, hi, err}
			}()
			waitParked(t, w)
			for i := range 3 {
				lo, err := b.Claim(ctx, 2)
				if err != nil {
					t.Fatal(err)
				}
				*b.At(lo), *b.At(lo + 1) = 2*i, 2*i+1
				b.CommitQuiet(lo, 2)
			}
			select {
			case g := <-got:
				t.Fatalf("the reader woke to [%d, %d), %v without WakeReaders", g.lo, g.hi, g.err)
			case <-time.After(20 * time.Millisecond):
			}
			if ring.Sleepers(w) != 1 {
				t.Fatalf("%d sleepers on the reader's waiter, want 1", ring.Sleepers(w))
			}
			if !b.WakeReaders() {
				t.Fatal("WakeReaders reported nobody parked, with the reader parked")
			}
			g := <-got
			if g.err != nil || g.lo != 0 || g.hi != 6 {
				t.Fatalf("reader got [%d, %d), %v; want [0, 6), nil", g.lo, g.hi, g.err)
			}
			for s := g.lo; s < g.hi; s++ {
				if *b.At(s) != int(s) {
					t.Fatalf("slot %d = %d", s, *b.At(s))
				}
			}
			r.Release(g.hi)
			if b.WakeReaders() {
				t.Fatal("WakeReaders reported a parked reader after the reader woke")
			}
			b.Close()
		})
	}
}

// TestWakeReadersReportsParked checks when WakeReaders reports a parked
// reader: never for a ring without readers or for readers awake, but for a
// reader asleep on a Waiter of its own that parks on an embedded PhasedWaiter;
// and it wakes the readers without upstreams exactly once each, as Commit does.
func TestWakeReadersReportsParked(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			empty := mustNew[int](t, 8, m.opts...)
			if empty.WakeReaders() {
				t.Fatal("WakeReaders on a ring without readers reported a parked reader")
			}

			b := mustNew[int](t, 8, m.opts...)
			mustReader(t, b) // awake: never waits
			if b.WakeReaders() {
				t.Fatal("WakeReaders reported a parked reader, with none waiting")
			}

			own := new(wakeCounter) // sleeps on its embedded PhasedWaiter, but is no *PhasedWaiter
			b2 := mustNew[int](t, 8, m.opts...)
			r := mustReader(t, b2, ring.ReaderWaiter(own), ring.Linger(0))
			down := new(wakeCounter)
			mustReader(t, b2, ring.ReaderWaiter(down), ring.After(r))
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				_, _, err := r.Wait(ctx)
				errc <- err
			}()
			waitParked(t, &own.PhasedWaiter)
			// A Waiter of its own that parks on an embedded PhasedWaiter is parked in the
			// Go runtime all the same, and reports it.
			if !b2.WakeReaders() {
				t.Fatal("WakeReaders missed a reader asleep on a Waiter that embeds a PhasedWaiter")
			}
			if n := own.wakes.Load(); n != 1 {
				t.Fatalf("WakeReaders woke the reader %d times, want 1", n)
			}
			if n := down.wakes.Load(); n != 0 {
				t.Fatalf("WakeReaders woke a downstream reader %d times, want 0", n)
			}
			b2.Close()
			if err := <-errc; !errors.Is(err, ring.ErrClosed) {
				t.Fatalf("Wait = %v, want ErrClosed", err)
			}
		})
	}
}

// TestCommitQuietWakesNobody publishes through CommitQuiet on one publisher
// and on several: the entries are readable at once, in order, and no waiter is
// woken until WakeReaders, which wakes each reader without upstreams once.
// CommitQuiet refuses what Commit refuses.
func TestCommitQuietWakesNobody(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 8, m.opts...)
			wa, wb := new(countingWaiter), new(countingWaiter)
			a := mustReader(t, b, ring.ReaderWaiter(wa))
			c := mustReader(t, b, ring.ReaderWaiter(wb))
			next := int64(0)
			for round := range 5 {
				for range 3 {
					lo, ok := b.TryClaim(1)
					if !ok {
						t.Fatal("TryClaim failed")
					}
					*b.At(lo) = int(lo)
					b.CommitQuiet(lo, 1)
				}
				if wa.wakes != 0 || wb.wakes != 0 {
					t.Fatalf("round %d: CommitQuiet woke the readers (%d, %d times)", round, wa.wakes, wb.wakes)
				}
				for _, r := range []*ring.Reader{a, c} {
					lo, hi, ok := r.TryRead()
					if !ok || lo != next || hi != next+3 {
						t.Fatalf("round %d: TryRead = [%d, %d), %v; want [%d, %d)", round, lo, hi, ok, next, next+3)
					}
					for s := lo; s < hi; s++ {
						if *b.At(s) != int(s) {
							t.Fatalf("slot %d = %d", s, *b.At(s))
						}
					}
					r.Release(hi)
				}
				next += 3
				if b.WakeReaders() {
					t.Fatal("WakeReaders reported a parked reader; none is a PhasedWaiter")
				}
				if wa.wakes != 1 || wb.wakes != 1 {
					t.Fatalf("round %d: WakeReaders woke the readers %d and %d times, want once each", round, wa.wakes, wb.wakes)
				}
				wa.wakes, wb.wakes = 0, 0
			}
		})
	}
	t.Run("misuse", func(t *testing.T) {
		for _, m := range publisherModes() {
			b := mustNew[int](t, 8, m.opts...)
			func() {
				defer func() {
					s, _ := recover().(string)
					if !strings.HasPrefix(s, "ring: ") {
						t.Fatalf("%s: CommitQuiet of an unclaimed range: recovered %q, want a ring: panic", m.name, s)
					}
				}()
				if m.multi {
					b.CommitQuiet(0, 0) // a multi-publisher commit checks only n
				} else {
					b.CommitQuiet(0, 1)
				}
			}()
		}
	})
}
