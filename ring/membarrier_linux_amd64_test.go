//go:build gc && !race && !loopyring_fenced

package ring_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// refusedEnv names, in a child process, which step first finds membarrier
// refused: "settle", "close" or "probe".
const refusedEnv = "LOOPYRING_TEST_REFUSED_MEMBARRIER"

// TestMembarrierRefused forces what a seccomp filter installed after the first
// ring does: every membarrier fails. Nothing may panic and nothing may be
// lost, on rings already publishing with light stores, whichever first meets
// the refusal (a waiter settling, or Close); rings made afterwards use fenced
// stores. The refusal is process-wide and for good, so each case runs in a
// child process of its own.
func TestMembarrierRefused(t *testing.T) {
	if step := os.Getenv(refusedEnv); step != "" {
		membarrierRefusedChild(t, step)
		return
	}
	if !ring.LightAvailable {
		t.Skip("no light stores here to fall back from")
	}
	for _, step := range []string{"settle", "close", "probe"} {
		t.Run(step, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*hang)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMembarrierRefused$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), refusedEnv+"="+step)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "--- PASS: TestMembarrierRefused") {
				t.Fatalf("child process: %v\n%s", err, out)
			}
			t.Logf("child process:\n%s", out)
		})
	}
}

// membarrierRefusedChild is the child process's side of TestMembarrierRefused.
func membarrierRefusedChild(t *testing.T, step string) {
	if !ring.LightAvailable {
		t.Fatal("no light stores in the child process, though the parent had them")
	}
	if step == "probe" {
		// The first ring's check of the kernel tries a barrier too: refused
		// there, light stores are never used.
		ring.RefuseMembarrier()
		if ring.RegisterMembarrier() {
			t.Fatal("registerMembarrier reports success with every barrier refused")
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()

	// Rings already publishing with light stores when the refusal comes: one
	// publisher and several, each with a reader on the default waiter (which
	// settles) that sleeps between bursts.
	single := newRefusedRing(t, ctx)
	multi := newRefusedRing(t, ctx, ring.MultiPublisher())
	single.burst(t, 5)
	multi.burst(t, 5)

	switch step {
	case "settle":
		ring.RefuseMembarrier()
		// The condition turns true with no Wake after the waiter's last look
		// before sleeping, as when a light commit misses it: the waiter must
		// find it by itself once its first sleep ends, which is where it
		// meets the refused barrier.
		w := ring.NewPhasedWaiter(0, 0)
		ring.SetFenced(w)
		looks := 0
		start := time.Now()
		if err := w.Wait(ctx, func() bool { looks++; return looks > 2 }); err != nil {
			t.Fatalf("settling waiter: %v", err)
		}
		if took := time.Since(start); took > hang/2 {
			t.Fatalf("settling waiter found the change after %v", took)
		}
		if !ring.LightRevoked() {
			t.Fatal("the waiter settled past a refused membarrier without revoking light stores")
		}
	case "close":
		// A publisher claims and commits as fast as it can when the refusal
		// comes, and Close follows at once: it meets the refused barrier
		// with claims racing it (unless the reader, settling, met it
		// first). The reader must end with exactly what was committed.
		closeWhilePublishing(t, ctx, single, ring.RefuseMembarrier)
		if !ring.LightRevoked() {
			t.Fatal("Close went past a refused membarrier without revoking light stores")
		}
	default:
		t.Fatalf("unknown step %q", step)
	}

	// The rings made before go on, now with fenced stores, and end with
	// nothing lost.
	multi.burst(t, 5)
	if step != "close" {
		single.burst(t, 5)
		closeWhilePublishing(t, ctx, single, nil)
	}
	multi.b.Close()
	multi.finish(t)

	// Rings made now use fenced stores only, and their waiters do not settle.
	if ring.LightAvailableNow() {
		t.Fatal("light stores still available after a refused membarrier")
	}
	for _, opts := range [][]ring.Option{nil, {ring.MultiPublisher()}} {
		b := mustNew[int](t, 8, opts...)
		r := mustReader(t, b)
		b.Close()
		if claims, commits := ring.Light(b); claims || commits {
			t.Fatalf("a ring made after the refusal: light claims, commits = %v, %v", claims, commits)
		}
		if ring.WaiterFenced(ring.WaiterOf(r).(*ring.PhasedWaiter)) {
			t.Fatal("a reader made after the refusal settles")
		}
	}
}

// refusedRing is a ring with light stores and a reader goroutine that checks
// every entry and counts them.
type refusedRing struct {
	b    *ring.Buffer[int64]
	next int64 // the publisher's next value
	done chan struct{}
	mu   sync.Mutex
	got  int64
	err  error
}

func newRefusedRing(t *testing.T, ctx context.Context, opts ...ring.Option) *refusedRing {
	t.Helper()
	rr := &refusedRing{b: mustNew[int64](t, 64, opts...), done: make(chan struct{})}
	r := mustReader(t, rr.b, ring.Linger(0))
	if !ring.WaiterFenced(ring.WaiterOf(r).(*ring.PhasedWaiter)) {
		t.Fatal("the reader of a ring with light commits does not settle")
	}
	go func() {
		defer close(rr.done)
		for {
			lo, hi, err := r.Wait(ctx)
			rr.mu.Lock()
			if err != nil {
				if !errors.Is(err, ring.ErrClosed) {
					rr.err = err
				}
				rr.mu.Unlock()
				return
			}
			for s := lo; s < hi; s++ {
				if v := *rr.b.At(s); v != s && rr.err == nil {
					rr.err = errors.New("slot " + fmtInt(int(s)) + " holds " + fmtInt(int(v)))
				}
			}
			rr.got = hi
			rr.mu.Unlock()
			r.Release(hi)
		}
	}()
	return rr
}

// burst commits n entries one at a time, each after the reader took the last
// and had time to settle into its sleep.
func (rr *refusedRing) burst(t *testing.T, n int) {
	t.Helper()
	for range n {
		lo, ok := rr.b.TryClaim(1)
		if !ok {
			t.Fatal("TryClaim failed on a ring the reader keeps empty")
		}
		*rr.b.At(lo) = lo
		rr.b.Commit(lo, 1)
		rr.next = lo + 1
		deadline := time.Now().Add(hang / 2)
		for {
			rr.mu.Lock()
			got, err := rr.got, rr.err
			rr.mu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			if got == rr.next {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the reader is stuck at %d of %d: a commit was lost", got, rr.next)
			}
			time.Sleep(20 * time.Microsecond)
		}
		time.Sleep(200 * time.Microsecond) // longer than settling takes
	}
}

// finish waits for the reader to end and checks it read everything.
func (rr *refusedRing) finish(t *testing.T) {
	t.Helper()
	select {
	case <-rr.done:
	case <-time.After(hang):
		t.Fatal("the reader did not end after Close")
	}
	if rr.err != nil {
		t.Fatal(rr.err)
	}
	if rr.got != rr.next {
		t.Fatalf("the reader ended at %d, with %d committed", rr.got, rr.next)
	}
}

// closeWhilePublishing closes a single-publisher ring while its publisher
// claims and commits in a loop, calling before (if not nil) just before Close.
func closeWhilePublishing(t *testing.T, ctx context.Context, rr *refusedRing, before func()) {
	t.Helper()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			lo, err := rr.b.Claim(ctx, 1)
			if err != nil {
				if !errors.Is(err, ring.ErrClosed) {
					t.Error(err)
				}
				return
			}
			*rr.b.At(lo) = lo
			rr.b.Commit(lo, 1)
			rr.next = lo + 1
		}
	}()
	time.Sleep(2 * time.Millisecond)
	if before != nil {
		before()
	}
	rr.b.Close()
	<-stopped
	rr.finish(t)
}
