package flow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

var errOdd = errors.New("odd entry")

func TestPanicsAndErrorsUnderSkip(t *testing.T) {
	n := scale(20000, 2000)
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(8))
	var got atomic.Int64
	in.Then(2, func(v int) int {
		if v%10 == 3 {
			panic(fmt.Sprintf("boom %d", v))
		}
		return v
	}, flow.OnError(flow.Skip), flow.Name("panicky"), flow.Capacity(4)).
		ThenErr(1, func(v int) (int, error) {
			if v%10 == 5 {
				return 0, errOdd
			}
			return v, nil
		}, flow.OnError(flow.Skip), flow.Name("erring")).
		Sink(1, func(int) { got.Add(1) })
	start(t, g)
	publishAll(t, in, n, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatalf("Skip policy still stopped the graph: %v", err)
	}
	if want := int64(n - 2*n/10); got.Load() != want {
		t.Fatalf("delivered %d, want %d (every entry but the failing ones)", got.Load(), want)
	}
	levels := perLevel(g)
	panics, errs := levels["panicky"].Errors, levels["erring"].Errors
	if panics != uint64(n/10) || errs != uint64(n/10) {
		t.Fatalf("counted %d panics and %d errors, want %d each", panics, errs, n/10)
	}
}

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
	}, flow.Name("ex"), flow.ErrorSink(func(se *flow.StageError) {
		mu.Lock()
		failures = append(failures, se)
		mu.Unlock()
	})).Sink(1, func(int) { ok.Add(1) })
	start(t, g)
	publishAll(t, in, 400, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	if len(failures) != 100 || ok.Load() != 400 {
		t.Fatalf("sink got %d failures and %d outputs, want 100 and 400", len(failures), ok.Load())
	}
	for _, f := range failures {
		if f.Level != "ex" || !errors.Is(f, errOdd) || f.Seq%4 != 0 {
			t.Fatalf("bad failure report: %+v", f)
		}
	}
}

func TestPanicUnderStopGraphIsReportedAndDrains(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(4))
	var after atomic.Int64
	in.Then(1, func(v int) int {
		if v == 50 {
			panic("bad entry")
		}
		return v
	}, flow.Name("fragile"), flow.Capacity(2)).Sink(1, func(int) { after.Add(1) })
	start(t, g)
	var accepted int64
	for i := 0; i < 1000; i++ {
		if err := in.Publish(context.Background(), i); err != nil {
			if !errors.Is(err, flow.ErrStopped) {
				t.Fatal(err)
			}
			break
		}
		accepted++
	}
	err := g.Wait()
	var se *flow.StageError
	if !errors.As(err, &se) {
		t.Fatalf("Wait: %v, want a *StageError", err)
	}
	if se.Level != "fragile" || se.Stage != 0 || se.Seq != 50 || se.Panic != "bad entry" ||
		!strings.Contains(string(se.Stack), "failure_test.go") {
		t.Fatalf("panic report: level %q stage %d seq %d panic %v stack has test file: %v",
			se.Level, se.Stage, se.Seq, se.Panic, strings.Contains(string(se.Stack), "failure_test.go"))
	}
	if !strings.Contains(err.Error(), `level "fragile" stage 0`) {
		t.Fatalf("error text does not name the level and stage: %v", err)
	}
	// Every accepted entry but the failing one drained through the sink.
	if after.Load() != accepted-1 {
		t.Fatalf("%d accepted, %d delivered; want all but the failing one", accepted, after.Load())
	}
}

func TestPanicInBatchFunctionReleasesTheBatch(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(4))
	var out atomic.Int64
	in.ThenBatch(1, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
		for i := range b.Len() {
			if *b.At(i) == 7 {
				panic("seven")
			}
			e.Emit(*b.At(i))
		}
		return nil
	}, flow.OnError(flow.Skip), flow.Capacity(2)).Sink(1, func(int) { out.Add(1) })
	start(t, g)
	publishAll(t, in, 200, func(i int) int { return i }) // would hang if the batch stayed held
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	if out.Load() < 190 || out.Load() > 199 {
		t.Fatalf("delivered %d of 200 with one panicking batch", out.Load())
	}
}

func TestSourceErrorAndPanic(t *testing.T) {
	boom := errors.New("source failed")
	g := flow.New()
	src := flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
		for i := range 10 {
			if err := s.Emit(i); err != nil {
				return err
			}
		}
		return boom
	}, flow.Name("src"))
	var got atomic.Int64
	src.Sink(1, func(int) { got.Add(1) })
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Wait(); !errors.Is(err, boom) {
		t.Fatalf("Wait: %v, want the source's error", err)
	}
	if got.Load() != 10 {
		t.Fatalf("entries emitted before the failure: delivered %d, want 10", got.Load())
	}
}
