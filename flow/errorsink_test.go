package flow_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// ErrorSink: what it receives, and what happens when it panics or exits.

func TestErrorSinkReceivesEveryFailure(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var mu sync.Mutex
	var failures []*flow.StageError
	var ok atomic.Int64
	in.ExpandErr(1, func(v int, e *flow.Emitter[int]) error {
		e.Emit(v) // emitted before the failure: still published
		if v%4 == 0 {
			return fmt.Errorf("entry %d: %w", v, errOdd)
		}
		return nil
	}, flow.Name("ex"), flow.OnError(flow.ErrorSink(func(se *flow.StageError) {
		mu.Lock()
		failures = append(failures, se)
		mu.Unlock()
	}))).Sink(1, func(int) { ok.Add(1) })
	start(t, g)
	publishAll(t, in, 400, id)
	mustStop(t, g, nil)
	if len(failures) != 100 || ok.Load() != 400 {
		t.Fatalf("sink got %d failures and %d outputs, want 100 and 400", len(failures), ok.Load())
	}
	for _, f := range failures {
		if f.Level != "ex" || !errors.Is(f, errOdd) || f.Seq%4 != 0 {
			t.Fatalf("bad failure report: %+v", f)
		}
	}
}

// TestPanickingErrorSinkStopsTheGraph: a panic in an ErrorSink crashed the process.
func TestPanickingErrorSinkStopsTheGraph(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.ThenErr(1, func(v int) (int, error) { return 0, errOdd }, flow.Name("failing"),
		flow.OnError(flow.ErrorSink(func(*flow.StageError) { panic("sink broke") }))).Sink(1, func(int) {})
	start(t, g)
	_ = in.Publish(context.Background(), 1)
	waitWithin(t, g, drainLimit)
	err := g.Wait()
	var se *flow.StageError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "error sink panicked") || !errors.Is(err, errOdd) {
		t.Fatalf("Wait: %v; want a StageError for the sink's panic that wraps the original failure", err)
	}
}

// TestPanickingErrorSinkIsNotCalledAgain: each stage kept its own note that the level's sink
// had panicked, so the other stage of a level of two called it again. Entry 0 fails at stage 0
// at once; every other entry fails only once the sink's panic has stopped the graph with an
// error, so a second call of the sink would be the bug and not a race.
func TestPanickingErrorSinkIsNotCalledAgain(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var calls atomic.Int64
	in.SinkErr(2, func(v int) error {
		for v != 0 && g.Err() == nil {
			runtime.Gosched()
		}
		return errOdd
	}, flow.Name("failing"), flow.OnError(flow.ErrorSink(func(*flow.StageError) {
		calls.Add(1)
		panic("sink broke")
	})))
	start(t, g)
	if n, err := in.PublishBatch(context.Background(), []int{0, 1, 2, 3, 4, 5}); n != 6 || err != nil {
		t.Fatalf("PublishBatch: %d, %v", n, err)
	}
	err := stopWithin(t, g, drainLimit)
	if err == nil || !strings.Contains(err.Error(), "error sink panicked") {
		t.Fatalf("Stop: %v, want the sink's panic reported", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("the sink was called %d times, want once: it panicked the first time", calls.Load())
	}
}

// TestErrorSinkPolicyServesLaterGraphs: a policy made once (a package-level ErrorSink) whose
// sink panicked in one graph is still called by the next graph it is given to.
func TestErrorSinkPolicyServesLaterGraphs(t *testing.T) {
	var calls atomic.Int64
	var broken atomic.Bool
	broken.Store(true)
	policy := flow.ErrorSink(func(*flow.StageError) {
		calls.Add(1)
		if broken.Load() {
			panic("sink broke")
		}
	})
	for round := range 2 {
		g := flow.New()
		in := flow.Input[int](g)
		in.SinkErr(1, func(int) error { return errOdd }, flow.OnError(policy))
		start(t, g)
		if err := in.Publish(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		err := stopWithin(t, g, drainLimit)
		if round == 0 && (err == nil || !strings.Contains(err.Error(), "error sink panicked")) {
			t.Fatalf("round 0: Stop: %v, want the sink's panic", err)
		}
		if round == 1 && err != nil {
			t.Fatalf("round 1: Stop: %v; the sink, which no longer panics, should have taken the failure", err)
		}
		broken.Store(false)
	}
	if calls.Load() != 2 {
		t.Fatalf("the sink was called %d times over two graphs, want once in each", calls.Load())
	}
}

// TestErrorSinkGoexit: an error sink that calls runtime.Goexit (t.Fatal in a sink) once
// ended the stage's goroutine without a hand-over, and Stop hung. The sink's exit stops the
// graph with an error that says so, and every other committed entry is still processed,
// whether the failure it was handling was an error, a panic or a Goexit.
func TestErrorSinkGoexit(t *testing.T) {
	const n, bad = 64, 5
	kinds := map[string]func(){
		"error": nil,
		"panic": func() { panic("boom") },
		"exit":  runtime.Goexit,
	}
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		for kind, fail := range kinds {
			t.Run(fmt.Sprint(mode, "/", kind), func(t *testing.T) {
				g := flow.New(flow.GraphMode(mode))
				in := flow.Input[int](g)
				var got, sunk atomic.Int64
				in.ThenErr(1, func(v int) (int, error) {
					if v == bad {
						if fail != nil {
							fail()
						}
						return 0, errors.New("bad entry")
					}
					return v, nil
				}, flow.OnError(flow.ErrorSink(func(*flow.StageError) {
					sunk.Add(1)
					runtime.Goexit()
				})), flow.Name("fails")).
					Sink(1, func(int) { got.Add(1) })
				start(t, g)
				committed := publishUntilRefused(t, in, n)
				err := stopWithin(t, g, drainLimit)
				if err == nil || !strings.Contains(err.Error(), "error sink called runtime.Goexit") {
					t.Fatalf("Stop: %v, want the sink's exit reported", err)
				}
				if sunk.Load() != 1 {
					t.Fatalf("the sink ran %d times, want once", sunk.Load())
				}
				if committed <= bad || got.Load() != int64(committed-1) {
					t.Fatalf("%d of the %d other committed entries delivered", got.Load(), committed-1)
				}
			})
		}
	}
}

// TestErrorPolicyIsOneOption: an error sink is a policy like the others, so the last OnError
// of a level decides; an earlier ErrorSink does not quietly outrank a later Skip.
func TestErrorPolicyIsOneOption(t *testing.T) {
	boom := errors.New("boom")
	fails := func(v int) error {
		if v%2 == 0 {
			return boom
		}
		return nil
	}
	var sunk atomic.Int64
	sink := flow.ErrorSink(func(*flow.StageError) { sunk.Add(1) })
	for _, c := range []struct {
		name     string
		policies []flow.ErrorPolicy
		sunk     int64
		stops    bool
	}{
		{"sink then skip", []flow.ErrorPolicy{sink, flow.Skip}, 0, false},
		{"skip then sink", []flow.ErrorPolicy{flow.Skip, sink}, 5, false},
		{"sink then stop", []flow.ErrorPolicy{sink, flow.StopGraph}, 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			sunk.Store(0)
			opts := []flow.Option{flow.Name("x")}
			for _, p := range c.policies {
				opts = append(opts, flow.OnError(p))
			}
			g := flow.New()
			in := flow.Input[int](g)
			in.SinkErr(1, fails, opts...)
			start(t, g)
			n := publishUntilRefused(t, in, 10)
			err := g.Stop()
			if c.stops != (err != nil) || (c.stops && !errors.Is(err, boom)) {
				t.Fatalf("Stop returned %v after %d publishes", err, n)
			}
			if sunk.Load() != c.sunk {
				t.Fatalf("the sink got %d failures, want %d", sunk.Load(), c.sunk)
			}
		})
	}
}

// TestBatchFailureNamesItsFirstEntry: a batch function's failure is reported at the first
// entry of the batch it was given, under every routing; it used to be the start of the range
// read, which routing may have given to another stage.
func TestBatchFailureNamesItsFirstEntry(t *testing.T) {
	routes := map[string]func(*flow.Publisher[int]) *flow.Stream[int]{
		"shared": func(in *flow.Publisher[int]) *flow.Stream[int] { return in.Stream },
		"key": func(in *flow.Publisher[int]) *flow.Stream[int] {
			return in.KeyBy(func(v int) uint64 { return uint64(v) })
		},
		"partition": func(in *flow.Publisher[int]) *flow.Stream[int] {
			return in.PartitionBy(func(v int) int { return v / 3 })
		},
	}
	for name, route := range routes {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var firsts, seqs []int64 // the failing batches' first entries; the failures' Seq
			g := flow.New()
			in := flow.Input[int](g)
			route(in).ThenBatch(2, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
				if b.Stage().Index() != 1 {
					return nil
				}
				mu.Lock()
				firsts = append(firsts, int64(*b.At(0))) // an entry's value is its sequence
				mu.Unlock()
				return errors.New("stage 1 fails every batch")
			}, flow.OnError(flow.ErrorSink(func(se *flow.StageError) {
				mu.Lock()
				seqs = append(seqs, se.Seq)
				mu.Unlock()
			}))).Sink(1, func(int) {})
			start(t, g)
			publishAll(t, in, 200, id)
			mustStop(t, g, nil)
			slices.Sort(firsts)
			slices.Sort(seqs)
			if len(firsts) == 0 || !slices.Equal(firsts, seqs) {
				t.Fatalf("failures reported at %v; the failing batches began at %v", seqs, firsts)
			}
		})
	}
}
