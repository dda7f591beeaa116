package ring_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// TestLightStoresWhereAvailable checks which rings publish with light stores:
// a single publisher's claims wherever the platform allows them (several
// publishers claim with compare-and-swaps, and their Close runs no
// membarrier); commits, on either kind of ring, only when every waiter a
// commit wakes is a PhasedWaiter, which then fences before it parks; nothing
// with Fenced.
func TestLightStoresWhereAvailable(t *testing.T) {
	t.Logf("light stores available: %v", ring.LightAvailable)
	light := ring.LightAvailable
	cases := []struct {
		name        string
		multi       bool
		fenced      bool
		ownWaiter   bool // the first root reader sleeps on a Waiter of its own
		wantClaims  bool
		wantCommits bool
		wantSettle  bool // the default root waiter fences before it sleeps for good
	}{
		{"single", false, false, false, light, light, light},
		{"multi", true, false, false, false, light, light},
		{"own waiter", false, false, true, light, false, light},
		{"multi own waiter", true, false, true, false, false, light},
		{"fenced", false, true, false, false, false, false},
		{"multi fenced", true, true, false, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []ring.Option
			if tc.multi {
				opts = append(opts, ring.MultiPublisher())
			}
			if tc.fenced {
				opts = append(opts, ring.Fenced())
			}
			b := mustNew[int](t, 8, opts...)
			if tc.ownWaiter {
				mustReader(t, b, ring.ReaderWaiter(new(wakeCounter)))
			}
			root := mustReader(t, b) // the default waiter
			down := mustReader(t, b, ring.After(root))
			b.Close() // freezes the reader set, as the first claim would
			claims, commits := ring.Light(b)
			if claims != tc.wantClaims || commits != tc.wantCommits {
				t.Errorf("light claims, commits = %v, %v; want %v, %v", claims, commits, tc.wantClaims, tc.wantCommits)
			}
			// Marked when the reader is made, before the reader set is
			// known, so it settles even where commits turn out fenced.
			if got := ring.WaiterFenced(ring.WaiterOf(root).(*ring.PhasedWaiter)); got != tc.wantSettle {
				t.Errorf("root reader's waiter fences: %v, want %v", got, tc.wantSettle)
			}
			if ring.WaiterFenced(ring.WaiterOf(down).(*ring.PhasedWaiter)) {
				t.Error("a downstream reader's waiter fences; commits do not wake it")
			}
		})
	}
}

// TestClaimRacingCloseGivesItsEndBack stops Close after its first step, the
// closed bit, and lets a claim find it there after publishing its end, as a
// claim racing with Close can. The claim must fail and take the end back, or
// the reader, finding the ring closed, waits for a slot nobody will commit.
func TestClaimRacingCloseGivesItsEndBack(t *testing.T) {
	for _, m := range publisherModes() {
		if m.multi {
			continue // multi-publisher claims and Close meet in one compare-and-swap
		}
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 8, m.opts...)
			r := mustReader(t, b, ring.Linger(0))
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			for i := range 3 {
				lo, err := b.Claim(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				*b.At(lo) = i
				b.Commit(lo, 1)
			}
			ring.SetClosedBit(b)
			if ring.PublishClaim(b, 3, 5) {
				t.Fatal("a claim that found the closed bit after publishing its end stands")
			}
			if _, ok := b.TryClaim(1); ok {
				t.Fatal("TryClaim succeeded on a closed ring")
			}
			if _, err := b.Claim(ctx, 2); !errors.Is(err, ring.ErrClosed) {
				t.Fatalf("Claim on a closed ring: %v, want ErrClosed", err)
			}
			b.Close()
			got, err := readToEnd(ctx, r)
			if err != nil {
				t.Fatalf("after %d entries: %v (waiting for a claim that was given back?)", got, err)
			}
			if got != 3 || !r.Drained() {
				t.Fatalf("read %d entries, drained %v; want 3, true", got, r.Drained())
			}
		})
	}
}

// TestUnclaimRacingClose gives slots back while Close runs: whichever comes
// first, the reader must end with exactly the committed entries.
func TestUnclaimRacingClose(t *testing.T) {
	for _, m := range publisherModes() {
		if m.multi {
			continue
		}
		t.Run(m.name, func(t *testing.T) {
			for round := range scale(2000, 20) {
				b := mustNew[int](t, 8, m.opts...)
				r := mustReader(t, b, ring.Linger(0))
				ctx, cancel := context.WithTimeout(context.Background(), hang)
				lo, err := b.Claim(ctx, 4)
				if err != nil {
					t.Fatal(err)
				}
				*b.At(lo) = 7
				b.Commit(lo, 1)
				done := make(chan bool)
				go func() { done <- b.Unclaim(lo + 1) }()
				if round%2 == 0 {
					time.Sleep(time.Duration(round%5) * time.Microsecond)
				}
				b.Close()
				gaveBack := <-done
				if !gaveBack {
					b.Commit(lo+1, 3) // a claimed range must be committed, even after Close
				}
				got, err := readToEnd(ctx, r)
				if err != nil {
					t.Fatalf("round %d, after %d entries (gave back: %v): %v", round, got, gaveBack, err)
				}
				cancel()
				if want := map[bool]int{true: 1, false: 4}[gaveBack]; got != want {
					t.Fatalf("round %d: read %d entries, want %d (gave back: %v)", round, got, want, gaveBack)
				}
			}
		})
	}
}

// TestDrainedStaysTrue keeps claiming on a closed, drained ring: no failed
// claim may make Drained report false, even for a moment.
func TestDrainedStaysTrue(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 8, m.opts...)
			r := mustReader(t, b)
			lo, err := b.Claim(context.Background(), 2)
			if err != nil {
				t.Fatal(err)
			}
			b.Commit(lo, 2)
			b.Close()
			if _, hi, err := r.Wait(context.Background()); err != nil || hi != lo+2 {
				t.Fatalf("Wait = %d, %v; want %d, nil", hi, err, lo+2)
			}
			r.Release(lo + 2)
			if !r.Drained() {
				t.Fatal("not drained after releasing everything")
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, ok := b.TryClaim(1); ok {
						t.Error("TryClaim succeeded on a closed ring")
						return
					}
				}
			}()
			for i := range scale(200000, 20) {
				if !r.Drained() {
					t.Errorf("Drained reported false at check %d, after Close and a full drain", i)
					break
				}
			}
			close(stop)
			<-done
		})
	}
}

// TestSettleCatchesAMissedCommit plays the race that light commits allow: the
// condition turns true without a Wake, after the parking waiter's last look.
// A waiter that rings may wake after light stores (as NewReader marks it) must
// find it by itself, once its bounded first sleep ends; an ordinary waiter
// sleeps until woken, which is all its wakers need.
func TestSettleCatchesAMissedCommit(t *testing.T) {
	missed := func() func() bool {
		looks := 0
		// False for the look before enlisting and the one right after: the
		// change lands between the second look and the sleep.
		return func() bool { looks++; return looks > 2 }
	}
	// Its context would end the sleep too (and the look after it would find
	// the change), so what counts is that it returns long before that.
	w := ring.NewPhasedWaiter(0, 0)
	ring.SetFenced(w)
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	start := time.Now()
	if err := w.Wait(ctx, missed()); err != nil {
		t.Fatalf("fenced waiter: %v, want it to find the change by itself", err)
	}
	if took := time.Since(start); took > hang/2 {
		t.Fatalf("fenced waiter found the change after %v, only once its context was ending", took)
	} else {
		t.Logf("found after %v", took)
	}

	// The plain waiter looks again only when its context ends.
	plain := ring.NewPhasedWaiter(0, 0)
	const nap = 50 * time.Millisecond
	short, cancel2 := context.WithTimeout(context.Background(), nap)
	defer cancel2()
	start = time.Now()
	_ = plain.Wait(short, missed())
	if took := time.Since(start); took < nap {
		t.Fatalf("plain waiter returned after %v, before its context ended: it looked again unwoken", took)
	}
}

// readToEnd releases everything r is given until the ring is drained, and
// returns how many entries that was; an error other than ErrClosed ends it
// early.
func readToEnd(ctx context.Context, r *ring.Reader) (int, error) {
	got := 0
	for {
		lo, hi, err := r.Wait(ctx)
		if errors.Is(err, ring.ErrClosed) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got += int(hi - lo)
		r.Release(hi)
	}
}
