package ring_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// TestBatchesDeliversEverythingThenEnds: the range form hands out every committed entry once,
// in order, releases each span (the publisher can wrap the ring many times), and ends without
// an error when the ring is closed.
func TestBatchesDeliversEverythingThenEnds(t *testing.T) {
	const n = 10_000
	buf := mustNew[int](t, 16)
	r := mustReader(t, buf)
	go func() {
		defer buf.Close()
		commitN(t, buf, 0, n)
	}()
	next := 0
	for span, err := range r.Batches(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if span.Len() < 1 {
			t.Fatalf("empty span %+v", span)
		}
		for seq := span.Lo; seq < span.Hi; seq++ {
			if v := *buf.At(seq); v != next {
				t.Fatalf("entry %d is %d", next, v)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("the loop ended after %d entries, want %d", next, n)
	}
	if !r.Drained() {
		t.Fatal("the reader is not drained after the loop")
	}
}

// TestBatchesBreakReleases: breaking out of the loop releases the span it broke in, so the
// publisher can claim the ring's whole capacity again.
func TestBatchesBreakReleases(t *testing.T) {
	buf, _ := ring.New[int](4)
	r, _ := buf.NewReader()
	seq, _ := buf.Claim(context.Background(), 4)
	buf.Commit(seq, 4)
	for span, err := range r.Batches(context.Background()) {
		if err != nil || span.Len() != 4 {
			t.Fatalf("span %+v, err %v", span, err)
		}
		break
	}
	if _, ok := buf.TryClaim(4); !ok {
		t.Fatal("the span broken out of was not released")
	}
}

// TestBatchesYieldsContextError: a context that ends while the reader waits ends the loop
// with its error, once.
func TestBatchesYieldsContextError(t *testing.T) {
	buf, _ := ring.New[int](4)
	r, _ := buf.NewReader()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	var errs []error
	for span, err := range r.Batches(ctx) {
		if span.Len() != 0 {
			t.Fatalf("span %+v on an empty ring", span)
		}
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.DeadlineExceeded) {
		t.Fatalf("the loop yielded %v; want one DeadlineExceeded", errs)
	}
}
