package ring_test

import (
	"strconv"
	"testing"

	"github.com/loopyring/loopyring/ring"
)

func fmtInt(n int) string { return strconv.Itoa(n) }

func mustNew[T any](t testing.TB, capacity int, opts ...ring.Option) *ring.Buffer[T] {
	t.Helper()
	b, err := ring.New[T](capacity, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustReader[T any](t testing.TB, b *ring.Buffer[T], opts ...ring.ReaderOption) *ring.Reader {
	t.Helper()
	r, err := b.NewReader(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// scale returns n, or n/div (at least 1) under -short.
func scale(n, div int) int {
	if testing.Short() {
		return max(1, n/div)
	}
	return n
}
