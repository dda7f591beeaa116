package ring_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/loopyring/loopyring/ring"
)

// A publisher fills slots in place; a reader processes them in batches and
// stops once the ring is closed and drained.
func Example_basic() {
	buf, err := ring.New[string](8)
	if err != nil {
		panic(err)
	}
	r, err := buf.NewReader()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			lo, hi, err := r.Wait(ctx)
			if errors.Is(err, ring.ErrClosed) {
				fmt.Println("drained")
				return
			}
			for s := lo; s < hi; s++ {
				fmt.Println(s, *buf.At(s))
			}
			r.Release(hi)
		}
	}()

	for _, word := range []string{"alpha", "beta", "gamma"} {
		lo, err := buf.Claim(ctx, 1)
		if err != nil {
			panic(err)
		}
		*buf.At(lo) = word
		buf.Commit(lo, 1)
	}
	buf.Close()
	<-done
	// Output:
	// 0 alpha
	// 1 beta
	// 2 gamma
	// drained
}

// Two phases over one ring: upper rewrites each entry in place, and show
// sees an entry only after upper released it. Nothing is copied.
func Example_phases() {
	buf, _ := ring.New[string](4)
	upper, _ := buf.NewReader()
	show, _ := buf.NewReader(ring.After(upper))

	lo, _ := buf.TryClaim(2)
	*buf.At(lo), *buf.At(lo + 1) = "hello", "ring"
	buf.Commit(lo, 2)

	if _, _, ok := show.TryRead(); !ok {
		fmt.Println("show waits for upper")
	}
	lo, hi, _ := upper.TryRead()
	for s := lo; s < hi; s++ {
		*buf.At(s) = strings.ToUpper(*buf.At(s))
	}
	upper.Release(hi)

	lo, hi, _ = show.TryRead()
	for s := lo; s < hi; s++ {
		fmt.Println(*buf.At(s))
	}
	show.Release(hi)
	// Output:
	// show waits for upper
	// HELLO
	// RING
}

// A batch claim reserves several slots at once; the reader gets them as one
// range.
func ExampleBuffer_Claim() {
	buf, _ := ring.New[int](16, ring.MultiPublisher())
	r, _ := buf.NewReader(ring.MaxBatch(8))

	lo, _ := buf.Claim(context.Background(), 10)
	for s := lo; s < lo+10; s++ {
		*buf.At(s) = int(s * s)
	}
	buf.Commit(lo, 10)

	lo, hi, _ := r.TryRead()
	fmt.Println("batch", lo, hi, "len", buf.Len())
	r.Release(hi)
	lo, hi, _ = r.TryRead()
	fmt.Println("batch", lo, hi, "last", *buf.At(hi - 1))
	// Output:
	// batch 0 8 len 10
	// batch 8 10 last 81
}
