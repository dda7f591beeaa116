package flow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// Calls made out of order or from the wrong place: each gets an error or the package's
// panic, never a hang.

// TestStopAndWaitFromInsideAStage: Stop called from a stage's function used to wait for its
// own stage forever. Stop and Wait from a stage now return ErrInsideStage at once; Stop
// begins the drain, which still delivers every committed entry, and a Wait from outside
// then returns nil.
func TestStopAndWaitFromInsideAStage(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var waitErr error // written by the sink before it sends Stop's result
	stopped := make(chan error, 1)
	var seen atomic.Int64
	in.Sink(1, func(v int) {
		seen.Add(1)
		if v == 3 {
			waitErr = g.Wait()
			stopped <- g.Stop() // begins the drain, cannot wait for it from here
		}
	})
	start(t, g)
	publishAll(t, in, 4, id)
	select {
	case err := <-stopped:
		if !errors.Is(err, flow.ErrInsideStage) || !errors.Is(waitErr, flow.ErrInsideStage) {
			t.Fatalf("Stop and Wait from inside a stage: %v, %v; want ErrInsideStage", err, waitErr)
		}
	case <-time.After(drainLimit):
		hung(t, g, "Stop called from a stage's function did not return (it waits for its own stage)", drainLimit)
	}
	waitWithin(t, g, drainLimit)
	if seen.Load() != 4 {
		t.Fatalf("saw %d of 4 committed entries", seen.Load())
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait outside the graph after an inside Stop: %v", err)
	}
}

// TestStatsFromInit: a Stateful Init that called Stats, String or DOT waited for Start,
// which held the graph's lock while it waited for every Init: Start never returned. Now each
// call answers, Stats with every stage of the graph.
func TestStatsFromInit(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var stages atomic.Int64
	var described atomic.Bool
	in.StatefulSink(2, flow.StatefulSink[int, int]{
		Init: func(*flow.Stage) (int, error) {
			stages.Store(int64(len(g.Stats())))
			described.Store(g.String() != "" && g.DOT() != "")
			return 0, nil
		},
		Each: func(int, int) error { return nil },
	})
	started := make(chan error, 1)
	go func() { started <- g.Start(context.Background()) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return while an Init called Stats, String and DOT")
	}
	mustStop(t, g, nil)
	if stages.Load() != 2 || !described.Load() {
		t.Fatalf("from Init: Stats gave %d stages, want the sink's 2; String and DOT answered: %v", stages.Load(), described.Load())
	}
}

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
	doneWithin(t, g, blocking, "the self-feeding stage's TryPublish and Publish with a deadline", drainLimit)
	time.Sleep(5 * time.Millisecond) // let the unbounded Publish block; the result is the same if it has not yet
	mustStop(t, g, nil)
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

func TestLifecycleMisuse(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.Sink(1, func(int) {})
	if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("Publish before Start: %v", err)
	}
	if err := in.TryPublish(1); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("TryPublish before Start: %v", err)
	}
	if err := g.Stop(); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("Stop before Start: %v", err)
	}
	if err := g.Wait(); !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("Wait before Start: %v", err)
	}
	start(t, g)
	if err := g.Start(context.Background()); !errors.Is(err, flow.ErrStarted) {
		t.Fatalf("double Start: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("adding a level to a running graph did not panic")
			}
		}()
		in.Sink(1, func(int) {})
	}()
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("Publish after Stop: %v", err)
	}
	if err := in.TryPublish(1); !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("TryPublish after Stop: %v", err)
	}
	if n, err := in.PublishBatch(context.Background(), []int{1, 2}); n != 0 || !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("PublishBatch after Stop: %d, %v", n, err)
	}
	if n, err := in.PublishBatch(context.Background(), nil); n != 0 || !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("PublishBatch of nothing after Stop: %d, %v", n, err)
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

func TestMergeOfNothingPanics(t *testing.T) {
	for name, streams := range map[string][]*flow.Stream[int]{"no stream": nil, "nil streams": {nil, nil}} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "flow: Merge needs at least one stream") {
					t.Fatalf("Merge recovered %v, want the package's misuse panic", v)
				}
			}()
			flow.Merge(streams...)
		})
	}
}
