package ring_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/loopyring/loopyring/ring"
)

// TestWraps goes round small rings many times, from sequences near the top of
// the int64 range, with a chain of two readers, checking every value and the
// full/empty edges exactly.
func TestWraps(t *testing.T) {
	const start = 1<<62 - 37
	for _, multi := range []bool{false, true} {
		for _, capacity := range []int{2, 4, 8} {
			for _, batch := range []int{1, 2, capacity} {
				t.Run(fmt.Sprintf("multi=%v/cap=%d/batch=%d", multi, capacity, batch), func(t *testing.T) {
					opts := []ring.Option{ring.WithStart(start)}
					if multi {
						opts = append(opts, ring.MultiPublisher())
					}
					b := mustNew[int64](t, capacity, opts...)
					a := mustReader(t, b)
					c := mustReader(t, b, ring.After(a), ring.MaxBatch(batch))
					next, readA, readC := int64(start), int64(start), int64(start)
					for range scale(200*capacity, 10) {
						// Fill the ring completely.
						for {
							lo, ok := b.TryClaim(1)
							if !ok {
								break
							}
							if lo != next {
								t.Fatalf("claimed %d, want %d", lo, next)
							}
							*b.At(lo) = lo * 3
							b.Commit(lo, 1)
							next++
						}
						if got := next - readC; got != int64(capacity) {
							t.Fatalf("ring full with %d outstanding, want %d", got, capacity)
						}
						if got := b.Len(); got != capacity {
							t.Fatalf("Len() = %d, want %d", got, capacity)
						}
						// a reads everything; c may not pass a.
						lo, hi, ok := a.TryRead()
						if !ok || lo != readA || hi != next {
							t.Fatalf("a.TryRead() = %d, %d, %v; want %d, %d, true", lo, hi, ok, readA, next)
						}
						for s := lo; s < hi; s++ {
							if v := *b.At(s); v != s*3 {
								t.Fatalf("a read %d at %d, want %d", v, s, s*3)
							}
						}
						half := lo + (hi-lo+1)/2
						a.Release(half)
						readA = half
						// c drains what a released, batch by batch.
						for readC < readA {
							lo, hi, ok := c.TryRead()
							if !ok || lo != readC || hi > readA || hi-lo > int64(batch) {
								t.Fatalf("c.TryRead() = %d, %d, %v; want from %d, at most %d, up to %d", lo, hi, ok, readC, batch, readA)
							}
							for s := lo; s < hi; s++ {
								if v := *b.At(s); v != s*3 {
									t.Fatalf("c read %d at %d, want %d", v, s, s*3)
								}
							}
							c.Release(hi)
							readC = hi
						}
						if _, _, ok := c.TryRead(); ok {
							t.Fatal("c read past a")
						}
						a.Release(next)
						readA = next
					}
					if ring.SequenceOf(c) != readC || ring.SequenceOf(a) != readA {
						t.Fatalf("Sequence() = %d, %d; want %d, %d", ring.SequenceOf(a), ring.SequenceOf(c), readA, readC)
					}
				})
			}
		}
	}
}

func TestTryReadRepeatsUntilRelease(t *testing.T) {
	b := mustNew[int](t, 8)
	r := mustReader(t, b, ring.MaxBatch(3))
	lo, _ := b.TryClaim(5)
	b.Commit(lo, 5)
	for range 3 {
		lo, hi, ok := r.TryRead()
		if !ok || lo != 0 || hi != 3 {
			t.Fatalf("TryRead() = %d, %d, %v; want 0, 3, true", lo, hi, ok)
		}
	}
	r.Release(2)
	if lo, hi, ok := r.TryRead(); !ok || lo != 2 || hi != 5 {
		t.Fatalf("after Release(2): TryRead() = %d, %d, %v; want 2, 5, true", lo, hi, ok)
	}
	r.Release(2) // releasing nothing new is allowed
	r.Release(5)
	if _, _, ok := r.TryRead(); ok {
		t.Fatal("TryRead succeeded on a drained ring")
	}
}

func TestBatchClaim(t *testing.T) {
	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("multi=%v", multi), func(t *testing.T) {
			var opts []ring.Option
			if multi {
				opts = append(opts, ring.MultiPublisher())
			}
			b := mustNew[int](t, 8, opts...)
			r := mustReader(t, b)
			ctx := context.Background()
			lo, err := b.Claim(ctx, 5)
			if err != nil || lo != 0 {
				t.Fatalf("Claim(5) = %d, %v", lo, err)
			}
			if _, ok := b.TryClaim(4); ok {
				t.Fatal("TryClaim(4) succeeded with 3 free slots")
			}
			lo2, ok := b.TryClaim(3)
			if !ok || lo2 != 5 {
				t.Fatalf("TryClaim(3) = %d, %v; want 5, true", lo2, ok)
			}
			if multi {
				b.Commit(lo2, 3) // out of order: invisible until [0,5) commits
				if _, _, ok := r.TryRead(); ok {
					t.Fatal("read before the first range was committed")
				}
				b.Commit(lo, 5)
			} else {
				b.Commit(lo, 5)
				b.Commit(lo2, 3)
			}
			if lo, hi, ok := r.TryRead(); !ok || lo != 0 || hi != 8 {
				t.Fatalf("TryRead() = %d, %d, %v; want 0, 8, true", lo, hi, ok)
			}
			r.Release(6)
			if lo, ok := b.TryClaim(6); !ok || lo != 8 {
				t.Fatalf("TryClaim(6) after Release(6) = %d, %v; want 8, true", lo, ok)
			}
		})
	}
}

func TestNoReadersNeverBlocks(t *testing.T) {
	for _, opts := range [][]ring.Option{nil, {ring.MultiPublisher()}} {
		b := mustNew[int](t, 4, opts...)
		for i := range 100 {
			lo, err := b.Claim(context.Background(), 3)
			if err != nil || lo != int64(3*i) {
				t.Fatalf("Claim = %d, %v; want %d", lo, err, 3*i)
			}
			b.Commit(lo, 3)
		}
		if b.Len() != 0 {
			t.Fatalf("Len() = %d without readers, want 0", b.Len())
		}
	}
}
