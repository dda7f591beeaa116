package ring_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/loopyring/loopyring/ring"
)

// entry is what the stress tests publish. The phase fields are written by the
// readers themselves: a writes pa, b and c write pb and pc, d checks all three.
// Under -race this proves the barrier orders phases (a write by a is visible
// to b, c and d without any other synchronization), and the values prove it
// happened for this very entry.
type entry struct {
	pub        int
	n          int64
	pa, pb, pc int64
}

// checker verifies that a reader sees every entry of every publisher exactly
// once and in per-publisher order.
type checker struct {
	next []int64
}

func (c *checker) see(t *testing.T, name string, e *entry) {
	if e.pub < 0 || e.pub >= len(c.next) {
		t.Errorf("%s: entry from unknown publisher %d", name, e.pub)
		return
	}
	if e.n != c.next[e.pub] {
		t.Errorf("%s: publisher %d entry %d, want %d", name, e.pub, e.n, c.next[e.pub])
	}
	c.next[e.pub] = e.n + 1
}

func TestStressDiamond(t *testing.T) {
	per := scale(100000, 100)
	cases := []struct {
		pubs, capacity, claim, batch int
		multi                        bool
		fenced                       bool // a multi-publisher ring's marks beside the entries
	}{
		{1, 8, 1, 3, false, false},
		{1, 64, 5, 64, false, false},
		{3, 8, 1, 2, true, false},
		{4, 64, 3, 16, true, false},
		{2, 2, 1, 1, true, false},
		{3, 16, 2, 4, true, true},
	}
	for _, tc := range cases {
		fenced := tc.fenced
		t.Run(fmt.Sprintf("pubs=%d/cap=%d/claim=%d/batch=%d/fenced=%v", tc.pubs, tc.capacity, tc.claim, tc.batch, fenced), func(t *testing.T) {
			opts := []ring.Option{ring.WithStart(1<<62 - 1000)}
			if tc.multi {
				opts = append(opts, ring.MultiPublisher())
			}
			if fenced {
				opts = append(opts, ring.Fenced())
			}
			buf := mustNew[entry](t, tc.capacity, opts...)
			mb := ring.MaxBatch(tc.batch)
			a := mustReader(t, buf, mb)
			b := mustReader(t, buf, mb, ring.After(a))
			c := mustReader(t, buf, mb, ring.After(a))
			d := mustReader(t, buf, mb, ring.After(b, c))
			solo := mustReader(t, buf, mb) // an independent second gating reader

			var wg sync.WaitGroup
			read := func(name string, r *ring.Reader, f func(*entry)) {
				defer wg.Done()
				ck := checker{next: make([]int64, tc.pubs)}
				for {
					lo, hi, err := r.Wait(context.Background())
					if errors.Is(err, ring.ErrClosed) {
						break
					}
					if err != nil {
						t.Errorf("%s: Wait: %v", name, err)
						return
					}
					for s := lo; s < hi; s++ {
						e := buf.At(s)
						ck.see(t, name, e)
						f(e)
					}
					r.Release(hi)
				}
				for p, n := range ck.next {
					if n != int64(per) {
						t.Errorf("%s: publisher %d: saw %d entries, want %d", name, p, n, per)
					}
				}
			}
			wg.Add(5)
			go read("a", a, func(e *entry) { e.pa = e.n + 1 })
			go read("b", b, func(e *entry) {
				if e.pa != e.n+1 {
					t.Errorf("b ran before a on entry %d", e.n)
				}
				e.pb = e.n + 2
			})
			go read("c", c, func(e *entry) {
				if e.pa != e.n+1 {
					t.Errorf("c ran before a on entry %d", e.n)
				}
				e.pc = e.n + 3
			})
			go read("d", d, func(e *entry) {
				if e.pb != e.n+2 || e.pc != e.n+3 {
					t.Errorf("d ran before b or c on entry %d", e.n)
				}
			})
			go read("solo", solo, func(*entry) {})

			var pw sync.WaitGroup
			for p := range tc.pubs {
				pw.Go(func() {
					for n := 0; n < per; {
						k := min(tc.claim, per-n)
						lo, err := buf.Claim(context.Background(), k)
						if err != nil {
							t.Errorf("publisher %d: Claim: %v", p, err)
							return
						}
						for i := range int64(k) {
							*buf.At(lo + i) = entry{pub: p, n: int64(n) + i}
						}
						buf.Commit(lo, k)
						n += k
					}
				})
			}
			pw.Wait()
			buf.Close()
			wg.Wait()
			for _, r := range []*ring.Reader{a, b, c, d, solo} {
				if !r.Drained() {
					t.Errorf("reader not drained after Close")
				}
			}
		})
	}
}
