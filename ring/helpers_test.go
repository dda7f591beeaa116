package ring_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

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

// commitN publishes values from, from+1, ... one claim each.
func commitN(t *testing.T, buf *ring.Buffer[int], from, n int) {
	t.Helper()
	for i := range n {
		lo, err := buf.Claim(context.Background(), 1)
		if err != nil {
			t.Error(err)
			return
		}
		*buf.At(lo) = from + i
		buf.Commit(lo, 1)
	}
}

// receive returns the next value from c, and fails the test if none comes
// within hang; what names the value.
func receive[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(hang):
	}
	t.Fatalf("no %s within %v", what, hang)
	panic("unreachable")
}

// wantErr receives the error that what returned from errc, waiting at most
// hang, and fails the test unless it is target (errors.Is).
func wantErr(t *testing.T, errc <-chan error, target error, what string) {
	t.Helper()
	if err := receive(t, errc, "return from "+what); !errors.Is(err, target) {
		t.Fatalf("%s = %v, want %v", what, err, target)
	}
}

// readEach runs r's reading loop until Wait fails, and returns Wait's error or
// check's: it hands every entry of a batch to check with its sequence, then
// releases the batch and hands its end to released.
func readEach[T any](ctx context.Context, b *ring.Buffer[T], r *ring.Reader, check func(s int64, v T) error, released func(hi int64)) error {
	for {
		lo, hi, err := r.Wait(ctx)
		if err != nil {
			return err
		}
		for s := lo; s < hi; s++ {
			if err := check(s, *b.At(s)); err != nil {
				return err
			}
		}
		r.Release(hi)
		released(hi)
	}
}

// commitEach checks that no commit's wake is lost. It starts a goroutine per
// reader that reads with ctx, checks that every entry holds its own sequence
// and acknowledges every batch it releases; then it commits rounds such
// entries to b one at a time, and after each waits until every reader has
// acknowledged it, so that a wake lost on any commit leaves a reader asleep
// with no later commit or Close to hide it. Before commit i it yields i%vary
// times, to vary where the commit finds the readers on their way to sleep. It
// returns the channel on which each reader sends the error that ended it.
func commitEach(t *testing.T, ctx context.Context, b *ring.Buffer[int], readers []*ring.Reader, rounds, vary int) <-chan error {
	t.Helper()
	acks := make(chan int64, len(readers))
	errs := make(chan error, len(readers))
	for _, r := range readers {
		go func() {
			errs <- readEach(ctx, b, r, func(s int64, v int) error {
				if v != int(s) {
					t.Errorf("slot %d = %d", s, v)
				}
				return nil
			}, func(hi int64) { acks <- hi })
		}()
	}
	timer := time.NewTimer(hang)
	defer timer.Stop()
	for i := range rounds {
		lo, err := b.Claim(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		*b.At(lo) = int(lo)
		for range i % vary {
			runtime.Gosched()
		}
		b.Commit(lo, 1)
		timer.Reset(hang)
		for range readers {
			select {
			case hi := <-acks:
				if hi != lo+1 {
					t.Fatalf("commit %d acknowledged up to %d", lo, hi)
				}
			case err := <-errs:
				t.Fatalf("a reader ended at commit %d: %v", lo, err)
			case <-timer.C:
				t.Fatalf("a reader slept through commit %d", lo)
			}
		}
	}
	return errs
}

// opsCase is a named seed of a fuzz target whose input is a list of
// operations, one a byte.
type opsCase struct {
	name string
	ops  []byte
}

// runOps runs check on every case, each as a subtest: the table test of a
// fuzz target.
func runOps(t *testing.T, cases []opsCase, check func(*testing.T, []byte)) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { check(t, tc.ops) })
	}
}

// fuzzOps seeds f with every case and fuzzes check.
func fuzzOps(f *testing.F, cases []opsCase, check func(*testing.T, []byte)) {
	for _, tc := range cases {
		f.Add(tc.ops)
	}
	f.Fuzz(check)
}
