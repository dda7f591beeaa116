package flow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// TestStageFeedingItsOwnInput builds the one cycle the typed builder cannot see: a stage
// publishing into the Input that feeds it. While the stage processes a batch it holds that
// batch's slots, so the input ring fills behind it with nobody left to drain it. The rule
// the library follows, checked here: TryPublish returns ErrFull at once, Publish returns
// ctx.Err() when its context ends, and a Publish with a context that never ends waits until
// the graph is stopped from outside, then returns ErrStopped; it never hangs silently, and
// every entry it accepted is still delivered.
func TestStageFeedingItsOwnInput(t *testing.T) {
	const capacity = 4
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(capacity), flow.Name("loop-in"))
	var (
		accepted  int // entries the stage published into its own input; stage goroutine only
		tryErr    error
		deadline  error
		unbounded error
		delivered atomic.Int64
	)
	blocking := make(chan struct{})
	in.Sink(1, func(v int) {
		delivered.Add(1)
		if v != -1 {
			return
		}
		for range 2 * capacity { // more than can fit: the ring holds the batch being processed
			if tryErr = in.TryPublish(accepted); tryErr != nil {
				break
			}
			accepted++
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		deadline = in.Publish(ctx, 100)
		cancel()
		close(blocking)
		unbounded = in.Publish(context.Background(), 200)
	}, flow.Name("feeds-itself"))
	start(t, g)
	if err := in.Publish(context.Background(), -1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-blocking:
	case <-time.After(drainLimit):
		t.Fatalf("the self-feeding stage hung before its unbounded Publish:\n%s%s", g.String(), statsText(g))
	}
	time.Sleep(5 * time.Millisecond) // let the unbounded Publish block; the result is the same if it has not yet
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(tryErr, flow.ErrFull) || accepted == 0 || accepted > capacity-1 {
		t.Fatalf("TryPublish into the stage's own full input: %d accepted, then %v; want 1..%d, then ErrFull",
			accepted, tryErr, capacity-1)
	}
	if !errors.Is(deadline, context.DeadlineExceeded) {
		t.Fatalf("Publish with a deadline into the stage's own full input: %v, want DeadlineExceeded", deadline)
	}
	if !errors.Is(unbounded, flow.ErrStopped) {
		t.Fatalf("Publish without a deadline, released by Stop: %v, want ErrStopped", unbounded)
	}
	if got, want := delivered.Load(), int64(1+accepted); got != want {
		t.Fatalf("delivered %d entries, want %d (the first and every accepted one)", got, want)
	}
}

// TestStopFromInsideAStage shows one way a stage stops its own graph: cancel the context
// given to Start (RequestStop is the other; Stop and Wait from a stage return
// ErrInsideStage, see TestStopInsideStageReturns).
func TestStopFromInsideAStage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(64))
	var seen atomic.Int64
	in.Then(2, id).Sink(1, func(v int) {
		if seen.Add(1) == 100 {
			cancel()
		}
	})
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var committed int64
	for i := 0; ; i++ {
		if err := in.Publish(context.Background(), i); err != nil {
			if !errors.Is(err, flow.ErrStopped) {
				t.Fatal(err)
			}
			break
		}
		committed++
		if committed > 1<<22 {
			t.Fatal("cancelling Start's context from inside a stage did not stop the inputs")
		}
	}
	waitWithin(t, g, drainLimit)
	if err := g.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait: %v, want context.Canceled", err)
	}
	if seen.Load() != committed {
		t.Fatalf("%d entries committed, %d delivered", committed, seen.Load())
	}
}

func TestUseAfterStop(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	in.Then(2, id, flow.Name("work")).Sink(1, func(int) {}, flow.Name("out"))
	start(t, g)
	desc := g.String() // with each level's mode, resolved by Start
	publishAll(t, in, 1000, id)
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	// Observers keep working and report the final counters.
	if g.String() != desc || !strings.Contains(g.DOT(), "digraph") {
		t.Fatalf("String after Stop changed:\n%s\nwas:\n%s", g.String(), desc)
	}
	var work, out uint64
	for _, s := range g.Stats() {
		switch s.Level {
		case "work":
			work += s.Out
		case "out":
			out += s.In
			if s.Queue != 0 {
				t.Fatalf("a sink reports a queue after Stop: %+v", s)
			}
		}
	}
	if work != 1000 || out != 1000 {
		t.Fatalf("stats after Stop: work published %d, sink took %d; want 1000 each", work, out)
	}
	if err := g.Start(context.Background()); !errors.Is(err, flow.ErrStarted) {
		t.Fatalf("Start after Stop: %v, want ErrStarted", err)
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait after a clean Stop: %v", err)
	}
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "flow: levels must be added before Start") {
			t.Fatalf("adding a level after Stop: recovered %v, want the package's misuse panic", v)
		}
	}()
	in.Then(1, id).Sink(1, func(int) {})
}

// TestConcurrentLifecycleCalls races Start, Stop and Wait from many goroutines: exactly one
// Start wins, and every Stop and Wait returns the same (nil) error once the graph is done.
func TestConcurrentLifecycleCalls(t *testing.T) {
	for range scale(10, 3) {
		g := flow.New()
		in := flow.Input[int](g, flow.Capacity(16))
		var delivered atomic.Int64
		in.Then(2, id, flow.Capacity(8)).Sink(1, func(int) { delivered.Add(1) })
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				switch err := g.Start(context.Background()); {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, flow.ErrStarted):
					t.Errorf("concurrent Start: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d concurrent Starts succeeded, want 1", wins.Load())
		}
		var committed atomic.Int64
		for p := range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					if err := in.Publish(context.Background(), p*1_000_000+i); err != nil {
						if !errors.Is(err, flow.ErrStopped) {
							t.Errorf("publish: %v", err)
						}
						return
					}
					committed.Add(1)
				}
			})
		}
		time.Sleep(2 * time.Millisecond)
		errs := make(chan error, 16)
		for k := range 16 {
			wg.Go(func() {
				if k%2 == 0 {
					errs <- g.Stop()
				} else {
					errs <- g.Wait()
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(drainLimit):
			t.Fatalf("concurrent Stop and Wait did not return:\n%s%s", g.String(), statsText(g))
		}
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Stop or Wait: %v", err)
			}
		}
		if committed.Load() != delivered.Load() {
			t.Fatalf("%d committed, %d delivered", committed.Load(), delivered.Load())
		}
	}
}
