package ring_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// hang bounds how long a test waits for something that must happen; it detects
// a hang, it does not measure speed.
const hang = 10 * time.Second

// publisherMode is one way of publishing that the tests run through.
type publisherMode struct {
	name  string
	multi bool
	opts  []ring.Option
}

// publisherModes returns one publisher and several; where rings publish with
// light stores (see ring's package doc), each also with fenced stores, so that
// both ways are tested on one machine.
func publisherModes() []publisherMode {
	modes := []publisherMode{
		{"single", false, nil},
		{"multi", true, []ring.Option{ring.MultiPublisher()}},
	}
	if ring.LightAvailable {
		for _, m := range modes[:2] {
			modes = append(modes, publisherMode{m.name + "-fenced", m.multi, append(m.opts[:len(m.opts):len(m.opts)], ring.Fenced())})
		}
	}
	return modes
}

func TestCloseUnblocksClaim(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 2, m.opts...)
			mustReader(t, b)
			lo, _ := b.TryClaim(2)
			b.Commit(lo, 2)
			errc := make(chan error, 3)
			for range cap(errc) { // several blocked claimers (the single ones take turns)
				go func() {
					_, err := b.Claim(context.Background(), 1)
					errc <- err
				}()
				if !m.multi {
					break
				}
			}
			time.Sleep(5 * time.Millisecond) // let them block; correctness does not depend on it
			b.Close()
			b.Close() // idempotent
			n := 1
			if m.multi {
				n = cap(errc)
			}
			for range n {
				wantErr(t, errc, ring.ErrClosed, "a Claim blocked at Close")
			}
			if _, err := b.Claim(context.Background(), 1); !errors.Is(err, ring.ErrClosed) {
				t.Fatalf("Claim after Close = %v, want ErrClosed", err)
			}
			if _, ok := b.TryClaim(1); ok {
				t.Fatal("TryClaim succeeded after Close")
			}
			if !b.Closed() {
				t.Fatal("Closed() = false after Close")
			}
		})
	}
}

func TestCloseDeliversClaimedEntries(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 8, m.opts...)
			a := mustReader(t, b)
			d := mustReader(t, b, ring.After(a))
			lo, _ := b.TryClaim(3)
			for s := lo; s < lo+3; s++ {
				*b.At(s) = int(s) + 100
			}
			b.Commit(lo, 2)
			// The third slot is claimed but not committed: a claim in flight.
			b.Close()
			got := make(chan []int, 2)
			for _, r := range []*ring.Reader{a, d} {
				go func() {
					var seen []int
					for {
						lo, hi, err := r.Wait(context.Background())
						if err != nil {
							if !errors.Is(err, ring.ErrClosed) || !r.Drained() {
								seen = append(seen, -1)
							}
							got <- seen
							return
						}
						for s := lo; s < hi; s++ {
							seen = append(seen, *b.At(s))
						}
						r.Release(hi)
					}
				}()
			}
			time.Sleep(5 * time.Millisecond)
			if a.Drained() || d.Drained() {
				t.Fatal("Drained() = true while a claimed slot is uncommitted")
			}
			b.Commit(lo+2, 1) // committing after Close is allowed and delivered
			for range 2 {
				// Each reader sends what it saw when its Wait fails, as it must with ErrClosed after the drain.
				if seen := receive(t, got, "ErrClosed after the drain"); fmt.Sprint(seen) != "[100 101 102]" {
					t.Fatalf("reader saw %v, want [100 101 102]", seen)
				}
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			b := mustNew[int](t, 2, m.opts...)
			r := mustReader(t, b)
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 2)
			go func() {
				_, _, err := r.Wait(ctx)
				errc <- err
			}()
			lo, _ := b.TryClaim(2)
			b.Commit(lo, 2) // fills the ring and wakes the reader, which never releases

			if err := <-errc; err != nil {
				t.Fatalf("Wait with data = %v", err)
			}
			go func() {
				_, err := b.Claim(ctx, 1) // the ring is full and the reader does not release
				errc <- err
			}()
			r2 := mustNew[int](t, 2)
			rd := mustReader(t, r2)
			go func() {
				_, _, err := rd.Wait(ctx) // nothing is ever published
				errc <- err
			}()
			time.Sleep(5 * time.Millisecond)
			cancel()
			for range 2 {
				wantErr(t, errc, context.Canceled, "a Claim or Wait blocked at cancel")
			}
			if b.Closed() {
				t.Fatal("cancel closed the ring")
			}
			b.Close()
		})
	}
}

// TestCloseRace closes while publishers claim; every successful claim must be
// seen by the reader exactly once, and Drained must not precede any of them.
func TestCloseRace(t *testing.T) {
	for _, m := range publisherModes() {
		t.Run(m.name, func(t *testing.T) {
			for range scale(1000, 50) {
				b := mustNew[int64](t, 4, m.opts...)
				r := mustReader(t, b)
				pubs := 1
				if m.multi {
					pubs = 3
				}
				claimed := make(chan int64, pubs)
				for range pubs {
					go func() {
						var n int64
						for {
							lo, err := b.Claim(context.Background(), 1)
							if err != nil {
								claimed <- n
								return
							}
							*b.At(lo) = 1
							b.Commit(lo, 1)
							n++
						}
					}()
				}
				var seen int64
				closeAt := int64(20)
				for {
					lo, hi, err := r.Wait(context.Background())
					if err != nil {
						break
					}
					for s := lo; s < hi; s++ {
						seen += *b.At(s)
					}
					r.Release(hi)
					if seen >= closeAt && !b.Closed() {
						b.Close()
					}
				}
				var total int64
				for range pubs {
					total += <-claimed
				}
				if seen != total {
					t.Fatalf("reader saw %d entries, publishers claimed %d", seen, total)
				}
			}
		})
	}
}
