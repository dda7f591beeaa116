package flow_test

import (
	"context"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// How stages wait: an idle graph sleeps, and a commit reaches a sleeping reader promptly.

// TestIdleGraphSleeps asserts that an idle 9-stage graph, in each mode, costs under 0.1% of
// one core, and that no stage wakes while it idles: every stage sleeps (in its loop, or
// parked in the Go runtime) rather than spins or polls. The CPU time is the whole process's,
// from getrusage, so the bound also covers the runtime's own background work (about a
// third of it on the development machine); the race detector's runtime does many times
// more, so under -race the bound is 2%.
func TestIdleGraphSleeps(t *testing.T) {
	// Not shorter under -short: in one second the runtime's own work alone came close to
	// the bound.
	const window = 3 * time.Second
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			g := flow.New(flow.GraphMode(mode))
			in := flow.Input[int](g)
			in.Then(1, id).
				Then(2, id).
				Then(4, id).
				Sink(2, func(int) {})
			start(t, g)
			for _, s := range g.Stats() {
				if s.Mode != mode {
					t.Fatalf("stage %s/%d runs %s, want %s", s.Level, s.Stage, s.Mode, mode)
				}
			}
			publishAll(t, in, 1000, id) // wake everything once, then idle
			time.Sleep(100 * time.Millisecond)
			debug.FreeOSMemory() // collect and return memory now, not during the window
			before := g.Stats()
			cpu0 := cpuTime(t)
			time.Sleep(window)
			used := cpuTime(t) - cpu0
			for i, s := range g.Stats() {
				if s.Sleeps != before[i].Sleeps {
					t.Errorf("stage %s/%d went to sleep %d times while idle: something woke it", s.Level, s.Stage, s.Sleeps-before[i].Sleeps)
				}
			}
			t.Logf("idle 9-stage graph, %s: %v of CPU in %v (%.4f%% of a core)", mode, used, window, 100*float64(used)/float64(window))
			bound, permille := window/1000, 1.0
			if raceEnabled {
				bound, permille = window/50, 20
			}
			if used > bound {
				t.Fatalf("an idle 9-stage %s graph used %v of CPU in %v (bound: %.1f‰ of one core)", mode, used, window, permille)
			}
			mustStop(t, g, nil)
		})
	}
}

func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestBusyStageDoesNotHoldOutputBack: a stage kept busy by a steady input deferred its
// readers' wakes until it went idle, so a rare output waited for the whole backlog.
func TestBusyStageDoesNotHoldOutputBack(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(1<<14))
	seen := make(chan time.Time, 1)
	in.Filter(1, func(v int) (int, bool) {
		time.Sleep(2 * time.Microsecond) // a busy stage with a backlog
		return v, v == 10
	}, flow.MaxBatch(16)).Sink(1, func(int) { seen <- time.Now() })
	start(t, g)
	batch := make([]int, 1<<14)
	for i := range batch {
		batch[i] = i
	}
	if _, err := in.PublishBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	published := time.Now()
	var at time.Time
	select {
	case at = <-seen:
	case <-time.After(drainLimit):
		t.Fatal("the filtered entry never arrived")
	}
	// The filter needs at least 16k × 2 µs ≈ 33 ms for its backlog; entry 10 must arrive
	// well before that (a generous bound: this is a stall check, not a latency benchmark).
	if lag := at.Sub(published); lag > 25*time.Millisecond {
		t.Fatalf("the filtered entry reached the sink %v after the burst: held back by the busy stage", lag)
	}
	mustStop(t, g, nil)
}

// TestSourceEntriesFlowBeforeItFlushes: a source that emits from a long-running function
// without calling Flush still gets its entries to readers, a run of claimed slots at a
// time, instead of holding them until its ring is full.
func TestSourceEntriesFlowBeforeItFlushes(t *testing.T) {
	g := flow.New()
	seen := make(chan int, 64)
	release := make(chan struct{})
	src := flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
		for i := range 5 { // a ring of 16 claims 4 slots at a time: the 5th Emit commits 4
			if err := s.Emit(i); err != nil {
				return err
			}
		}
		<-release // a long-running source, not yet back in its loop
		s.Finish()
		return nil
	}, flow.Capacity(16))
	src.Sink(1, func(v int) { seen <- v })
	start(t, g)
	for want := range 4 {
		select {
		case v := <-seen:
			if v != want {
				t.Fatalf("got %d, want %d", v, want)
			}
		case <-time.After(10 * time.Second):
			close(release)
			t.Fatalf("entry %d not delivered while the source was still running", want)
		}
	}
	close(release)
	waitWithin(t, g, drainLimit)
	if v := <-seen; v != 4 {
		t.Fatalf("last entry %d, want 4", v)
	}
}
