package ring_test

import (
	"context"
	"testing"

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
