package flow_test

// Adversarial tests of the public API against its documented contract (go doc ./flow):
// each test quotes the promise it checks. They aim at what the rest of the suite does not
// cover: PublishBatch's exact count, publishers racing a drain, PhaseBatch, MaxBatch on
// every batch kind, StageError's fields, Stop and Wait from every kind of callback, errors
// after a failed Start, Stats' shape, and Completed under drops, failures and fan-out.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

var errContract = errors.New("contract: planned failure")

// TestContractUseBeforeStart: "ErrNotStarted is returned when a graph or publisher is used
// before Start"; "Stats ... Before Start it is empty"; RequestStop "does nothing before
// Start"; Done "is closed when the graph has stopped".
func TestContractUseBeforeStart(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var got collector[int]
	in.Sink(1, got.add, flow.Name("out"))

	if n, err := in.PublishBatch(context.Background(), []int{1, 2, 3}); n != 0 || !errors.Is(err, flow.ErrNotStarted) {
		t.Fatalf("PublishBatch before Start: %d, %v; want 0, ErrNotStarted", n, err)
	}
	if s := g.Stats(); len(s) != 0 {
		t.Fatalf("Stats before Start: %v, want empty", s)
	}
	if err := g.Err(); err != nil {
		t.Fatalf("Err before Start: %v, want nil", err)
	}
	select {
	case <-g.Done():
		t.Fatal("Done is closed before Start")
	default:
	}
	g.RequestStop() // does nothing before Start
	start(t, g)
	publishAll(t, in, 100, id)
	mustStop(t, g, nil)
	if n := len(got.items()); n != 100 {
		t.Fatalf("after RequestStop before Start, the graph delivered %d of 100", n)
	}
	select {
	case <-g.Done():
	default:
		t.Fatal("Done is not closed after Stop returned")
	}
}

// TestContractPublishBatchCountIsExact: "PublishBatch's count is exact: vs[:n] is delivered
// and vs[n:] is not", here when its context ends while the input ring is full.
func TestContractPublishBatchCountIsExact(t *testing.T) {
	g, in, gate, got := stuckSink(t, 8)

	vs := seq(1000)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	n, err := in.PublishBatch(ctx, vs)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PublishBatch into a stuck graph: %d, %v; want context.DeadlineExceeded", n, err)
	}
	if n <= 0 || n >= len(vs) {
		t.Fatalf("PublishBatch committed %d of %d into a ring of 8 behind a stuck sink", n, len(vs))
	}
	close(gate)
	mustStop(t, g, nil)
	if items := got.items(); !slices.Equal(items, vs[:n]) {
		t.Fatalf("PublishBatch reported %d committed; the sink got %d: %v", n, len(items), items)
	}
}

// TestContractPublishersRefusedOnceStopping: "ErrStopped is returned by publishers once the
// graph is stopping or stopped", by TryPublish on a full ring too (not ErrFull), and a
// blocked Publish is released; everything accepted is delivered.
func TestContractPublishersRefusedOnceStopping(t *testing.T) {
	g, in, gate, got := stuckSink(t, 4)

	accepted := 0
	for i := 0; ; i++ {
		err := in.TryPublish(i)
		if errors.Is(err, flow.ErrFull) {
			break
		}
		if err != nil {
			t.Fatalf("TryPublish(%d): %v", i, err)
		}
		accepted++
		if accepted > 64 {
			t.Fatalf("TryPublish accepted %d entries into a ring of 4 behind a stuck sink", accepted)
		}
	}
	// A publisher blocked on the full ring.
	blocked := make(chan error, 1)
	go func() { blocked <- in.Publish(context.Background(), -1) }()

	stopped := make(chan error, 1)
	go func() { stopped <- g.Stop() }()
	if !eventually(func() bool { return errors.Is(in.TryPublish(-2), flow.ErrStopped) }) {
		t.Fatalf("TryPublish on a full ring of a stopping graph: %v, want ErrStopped", in.TryPublish(-2))
	}
	select {
	case err := <-blocked:
		if err != nil && !errors.Is(err, flow.ErrStopped) {
			t.Fatalf("Publish blocked on a full ring when the graph began stopping: %v, want ErrStopped", err)
		}
		if err == nil {
			accepted++
		}
	case <-time.After(drainLimit):
		hung(t, g, "a Publish blocked on a full ring was not released by Stop", drainLimit)
	}
	if n, err := in.PublishBatch(context.Background(), []int{-3, -4}); n != 0 || !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("PublishBatch into a stopping graph: %d, %v; want 0, ErrStopped", n, err)
	}
	close(gate)
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	case <-time.After(drainLimit):
		hung(t, g, "Stop did not return", drainLimit)
	}
	items := got.items()
	if len(items) != accepted {
		t.Fatalf("accepted %d entries, delivered %d: %v", accepted, len(items), items)
	}
	for _, v := range items {
		if v < -1 {
			t.Fatalf("a refused entry (%d) was delivered", v)
		}
	}
}

// TestContractErrorIsTheSameEverywhere: under StopGraph, "Wait returns the error", Stop
// "returns the graph's first error, like Wait", Err "returns the graph's first error", from
// every goroutine and every call; the error is a *StageError naming the level and stage
// that wraps the function's error.
func TestContractErrorIsTheSameEverywhere(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	in.ThenErr(2, func(v int) (int, error) {
		if v == 7 {
			return 0, fmt.Errorf("entry %d: %w", v, errContract)
		}
		return v, nil
	}, flow.Name("work")).Sink(1, func(int) {}, flow.Name("out"))
	start(t, g)
	publishUntilRefused(t, in, 1_000_000)
	waitWithin(t, g, drainLimit)

	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, errContract) {
			t.Fatalf("%s: %v, want an error wrapping the function's", what, err)
		}
		var se *flow.StageError
		if !errors.As(err, &se) {
			t.Fatalf("%s: %T %v is no *StageError", what, err, err)
		}
		if se.Level != "work" || se.Stage < 0 || se.Stage > 1 || se.Seq < 0 || se.Panic != nil || se.Stack != nil {
			t.Fatalf("%s: StageError %+v; want level work, stage 0 or 1, a sequence, no panic", what, se)
		}
		if !strings.Contains(se.Error(), "work") {
			t.Fatalf("%s: %q does not name the level", what, se.Error())
		}
		if !errors.Is(se.Unwrap(), errContract) {
			t.Fatalf("%s: Unwrap returned %v", what, se.Unwrap())
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = g.Wait() })
	}
	wg.Wait()
	for i, err := range errs {
		check(fmt.Sprintf("Wait #%d", i), err)
	}
	check("Err", g.Err())
	check("Stop", stopWithin(t, g, drainLimit))
	check("second Stop", stopWithin(t, g, drainLimit))
	check("Wait after Stop", g.Wait())
	if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrStopped) {
		t.Fatalf("Publish after a failure stopped the graph: %v, want ErrStopped", err)
	}
}

// TestContractDeadlineIsWaitsError: Wait returns "ctx.Err() when the cancellation of Start's
// context stopped it", a deadline included; Stop returns the same; nothing committed is lost.
func TestContractDeadlineIsWaitsError(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var got atomic.Int64
	in.Then(2, id, flow.Name("work")).Sink(1, func(int) { got.Add(1) }, flow.Name("out"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop() })
	n := publishUntilEnd(t, g, in, context.DeadlineExceeded)
	if err := stopWithin(t, g, drainLimit); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop after Start's deadline: %v, want context.DeadlineExceeded", err)
	}
	if got.Load() != int64(n) {
		t.Fatalf("committed %d, delivered %d", n, got.Load())
	}
}

// TestContractFirstErrorWins: "StopGraph records the first failure as the graph's error": a
// cancellation after it does not replace it.
func TestContractFirstErrorWins(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	in.SinkErr(1, func(v int) error {
		if v == 3 {
			return errContract
		}
		return nil
	}, flow.Name("out"))
	ctx, cancel := context.WithCancel(context.Background())
	if err := g.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Stop() })
	publishUntilRefused(t, in, math.MaxInt32)
	waitWithin(t, g, drainLimit)
	cancel()
	if err := stopWithin(t, g, drainLimit); !errors.Is(err, errContract) {
		t.Fatalf("Stop after a failure then a cancellation: %v, want the failure", err)
	}
}

// TestContractFailedStartNeverHangs: a Start that failed validation leaves nothing that
// hangs: Wait and Stop return, and a Publish is never told nil ("A nil error means the entry
// is committed and will be delivered").
func TestContractFailedStartNeverHangs(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	in.Then(0, id, flow.Name("bad")).Sink(1, func(int) {})
	err := g.Start(context.Background())
	errorMentions(t, err, "bad")
	done := make(chan struct{})
	var waitErr, stopErr, pubErr, tryErr error
	go func() {
		defer close(done)
		waitErr = g.Wait()
		stopErr = g.Stop()
		pubErr = in.Publish(context.Background(), 1)
		tryErr = in.TryPublish(1)
	}()
	select {
	case <-done:
	case <-time.After(drainLimit):
		t.Fatal("Wait, Stop or Publish hangs after a failed Start")
	}
	if pubErr == nil || tryErr == nil {
		t.Fatalf("publishing into a graph that failed to start: %v, %v; want errors", pubErr, tryErr)
	}
	t.Logf("after a failed Start: Wait %v, Stop %v, Publish %v", waitErr, stopErr, pubErr)
}

// TestContractStageErrorOfAPanic: "Panic: the recovered value when the function panicked",
// "Stack: the panicking goroutine's stack"; "Errors: failures of user code, whatever the
// policy"; ErrorSink "carries on (the failing entry produces no output)" and Wait is nil.
func TestContractStageErrorOfAPanic(t *testing.T) {
	type boom struct{ v int }
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var mu sync.Mutex
	var failures []*flow.StageError
	var got collector[int]
	in.Then(3, func(v int) int {
		switch v % 10 {
		case 1:
			panic(boom{v})
		case 2:
			panic(fmt.Errorf("wrapped: %w", errContract))
		}
		return v
	}, flow.Name("work"), flow.OnError(flow.ErrorSink(func(se *flow.StageError) {
		mu.Lock()
		failures = append(failures, se)
		mu.Unlock()
	}))).Sink(1, got.add, flow.Name("out"))
	start(t, g)
	const n = 1000
	publishAll(t, in, n, id)
	mustStop(t, g, nil)

	if len(failures) != n/5 {
		t.Fatalf("ErrorSink saw %d failures, want %d", len(failures), n/5)
	}
	for _, se := range failures {
		if se.Level != "work" || se.Stage < 0 || se.Stage > 2 || se.Seq < 0 || se.Err == nil || len(se.Stack) == 0 {
			t.Fatalf("StageError of a panic: %+v", se)
		}
		switch p := se.Panic.(type) {
		case boom:
			if p.v%10 != 1 {
				t.Fatalf("panic value %v", p)
			}
		case error:
			if !errors.Is(p, errContract) {
				t.Fatalf("panic value %v", p)
			}
		default:
			t.Fatalf("StageError.Panic = %#v, want the recovered value", se.Panic)
		}
		if !strings.Contains(se.Error(), "work") {
			t.Fatalf("%q does not name the level", se.Error())
		}
	}
	items := got.items()
	if len(items) != n-n/5 {
		t.Fatalf("delivered %d, want %d", len(items), n-n/5)
	}
	for _, v := range items {
		if v%10 == 1 || v%10 == 2 {
			t.Fatalf("a failed entry (%d) produced output", v)
		}
	}
	var errs, handled uint64
	for _, s := range g.Stats() {
		if s.Level == "work" {
			errs += s.Errors
			handled += s.Handled
		}
	}
	if errs != n/5 || handled != n {
		t.Fatalf("stats of work: errors %d, handled %d; want %d, %d", errs, handled, n/5, n)
	}
}

// TestContractExpandErrPublishesOutputsBeforeTheFailure: ExpandErr "Outputs emitted before
// the failure are published", under each policy that carries on.
func TestContractExpandErrPublishesOutputsBeforeTheFailure(t *testing.T) {
	for name, policy := range map[string]flow.ErrorPolicy{
		"skip":      flow.Skip,
		"errorsink": flow.ErrorSink(func(*flow.StageError) {}),
	} {
		t.Run(name, func(t *testing.T) {
			g := flow.New()
			in := flow.Input[int](g, flow.Name("in"))
			var got collector[int]
			in.ExpandErr(2, func(v int, e *flow.Emitter[int]) error {
				e.Emit(2 * v)
				if v%2 == 1 {
					return errContract
				}
				e.Emit(2*v + 1)
				return nil
			}, flow.Name("expand"), flow.Capacity(4), flow.OnError(policy)).Sink(1, got.add, flow.Name("out"))
			start(t, g)
			const n = 500
			publishAll(t, in, n, id)
			mustStop(t, g, nil)
			items := got.items()
			slices.Sort(items)
			var want []int
			for v := range n {
				want = append(want, 2*v)
				if v%2 == 0 {
					want = append(want, 2*v+1)
				}
			}
			if !slices.Equal(items, want) {
				t.Fatalf("delivered %d outputs, want %d", len(items), len(want))
			}
			if errs := perLevel(g)["expand"].Errors; errs != n/2 {
				t.Fatalf("expand counted %d errors, want %d", errs, n/2)
			}
		})
	}
}

// TestContractThenBatchFailureCommitsItsOutputs: "An error fails the batch as one unit;
// outputs emitted before it are published", "a batch function [loses] the rest of the
// failing batch", and MaxBatch bounds every batch.
func TestContractThenBatchFailureCommitsItsOutputs(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var emitted, failedBatches, tooBig atomic.Int64
	var got collector[int]
	in.ThenBatch(1, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
		if b.Len() > 4 || b.Len() < 1 {
			tooBig.Add(1)
		}
		for _, v := range b.All() {
			if *v%10 == 3 {
				failedBatches.Add(1)
				return errContract
			}
			e.Emit(*v)
			emitted.Add(1)
		}
		return nil
	}, flow.Name("batch"), flow.MaxBatch(4), flow.OnError(flow.Skip)).Sink(1, got.add, flow.Name("out"))
	start(t, g)
	const n = 2000
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	if tooBig.Load() != 0 {
		t.Fatalf("%d batches outside 1..MaxBatch(4)", tooBig.Load())
	}
	items := got.items()
	if int64(len(items)) != emitted.Load() {
		t.Fatalf("emitted %d before failures, delivered %d", emitted.Load(), len(items))
	}
	if !slices.IsSorted(items) {
		t.Fatal("a one-stage chain reordered entries")
	}
	// Each failing batch loses its failing entry and at most the 3 after it.
	if lost := n - len(items); lost < n/10 || lost > 4*n/10 {
		t.Fatalf("lost %d of %d entries to %d failing batches", lost, n, failedBatches.Load())
	}
	if s := perLevel(g)["batch"]; s.Errors != uint64(failedBatches.Load()) {
		t.Fatalf("batch counted %d errors for %d failing batches", s.Errors, failedBatches.Load())
	}
}

// TestContractMaxBatchBoundsEveryBatchKind: MaxBatch "bounds how many entries a stage takes
// from one input ring in one batch", for ThenBatch, PhaseBatch and SinkBatch; All yields At's
// pointers with their indexes, in order; Batch.Stage names the stage.
func TestContractMaxBatchBoundsEveryBatchKind(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var bad atomic.Value
	check := func(level string, b *flow.Batch[int], max int) {
		if b.Len() < 1 || b.Len() > max {
			bad.Store(fmt.Sprintf("%s: a batch of %d under MaxBatch(%d)", level, b.Len(), max))
		}
		if b.Stage() == nil || b.Stage().Level() != level {
			bad.Store(fmt.Sprintf("%s: Batch.Stage is %v", level, b.Stage()))
		}
		next := 0
		for i, p := range b.All() {
			if i != next || p != b.At(i) {
				bad.Store(fmt.Sprintf("%s: All yielded %d (%p), want %d (%p)", level, i, p, next, b.At(next)))
			}
			next++
		}
		if next != b.Len() {
			bad.Store(fmt.Sprintf("%s: All yielded %d of %d", level, next, b.Len()))
		}
	}
	var total atomic.Int64
	in.ThenBatch(2, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
		check("tb", b, 3)
		for _, v := range b.All() {
			e.Emit(*v)
		}
		return nil
	}, flow.Name("tb"), flow.MaxBatch(3)).
		PhaseBatch(1, func(b *flow.Batch[int]) error {
			check("pb", b, 5)
			return nil
		}, flow.Name("pb"), flow.MaxBatch(5)).
		SinkBatch(2, func(b *flow.Batch[int]) error {
			check("sb", b, 7)
			total.Add(int64(b.Len()))
			return nil
		}, flow.Name("sb"), flow.MaxBatch(7))
	start(t, g)
	const n = 3000
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	if total.Load() != n {
		t.Fatalf("SinkBatch saw %d of %d", total.Load(), n)
	}
}

// ctagged is an entry with the upstream stage that published it.
type ctagged struct {
	From    int // the publishing stage's index
	V       int
	Stamped int // written by a phase in place
}

// TestContractPhaseBatchInPlace: PhaseBatch takes "every entry its stage received from one
// ring in one batch ..., in publication order"; "ring j by stage j mod n", so a phase sees
// every entry exactly once; what it writes in place is seen by the level after it.
func TestContractPhaseBatchInPlace(t *testing.T) {
	const width, phases = 3, 2
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var mu sync.Mutex
	owner := map[int]int{}    // upstream stage -> phase stage
	lastSeen := map[int]int{} // upstream stage -> last V the phase saw
	var bad atomic.Value
	var got collector[ctagged]
	in.Expand(width, func(v int, e *flow.Emitter[ctagged]) {
		e.Emit(ctagged{From: e.Stage().Index(), V: v})
	}, flow.Name("tag")).
		PhaseBatch(phases, func(b *flow.Batch[ctagged]) error {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range b.All() {
				if p.Stamped != 0 {
					bad.Store(fmt.Sprintf("entry %+v stamped twice", *p))
				}
				p.Stamped = p.V + 1
				if o, ok := owner[p.From]; ok && o != b.Stage().Index() {
					bad.Store(fmt.Sprintf("ring %d handled by phase stages %d and %d", p.From, o, b.Stage().Index()))
				}
				owner[p.From] = b.Stage().Index()
				if last, ok := lastSeen[p.From]; ok && p.V <= last {
					bad.Store(fmt.Sprintf("ring %d: phase saw %d after %d", p.From, p.V, last))
				}
				lastSeen[p.From] = p.V
			}
			return nil
		}, flow.Name("stamp")).
		Sink(1, got.add, flow.Name("out"))
	start(t, g)
	const n = 3000
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	items := got.items()
	if len(items) != n {
		t.Fatalf("delivered %d of %d", len(items), n)
	}
	for _, it := range items {
		if it.Stamped != it.V+1 {
			t.Fatalf("the sink read %+v: the phase's write in place is missing", it)
		}
	}
	for ring, stage := range owner {
		if stage != ring%phases {
			t.Fatalf("ring %d handled by phase stage %d, want %d (j mod n)", ring, stage, ring%phases)
		}
	}
}

// TestContractFailingPhasesMoveEntriesOn: PhaseErr and PhaseBatch failures "follow the
// level's error policy and the entry still moves on to later phases"; "a phase [loses]
// nothing".
func TestContractFailingPhasesMoveEntriesOn(t *testing.T) {
	t.Run("skip", func(t *testing.T) {
		g := flow.New()
		in := flow.Input[int](g, flow.Name("in"))
		var got collector[int]
		var batches atomic.Int64
		in.Then(2, id, flow.Name("work")).
			PhaseErr(1, func(v *int) error {
				if *v%3 == 0 {
					return errContract
				}
				return nil
			}, flow.Name("pe"), flow.OnError(flow.Skip)).
			PhaseBatch(2, func(b *flow.Batch[int]) error {
				batches.Add(1)
				if b.Len()%2 == 0 {
					panic("even batch")
				}
				return errContract
			}, flow.Name("pb"), flow.OnError(flow.Skip)).
			Sink(2, got.add, flow.Name("out"))
		start(t, g)
		const n = 1500
		publishAll(t, in, n, id)
		mustStop(t, g, nil)
		items := got.items()
		slices.Sort(items)
		if !slices.Equal(items, seq(n)) {
			t.Fatalf("failing phases lost entries: delivered %d of %d", len(items), n)
		}
		stats := perLevel(g)
		if stats["pe"].Errors != n/3 || stats["pb"].Errors != uint64(batches.Load()) {
			t.Fatalf("phase errors %d and %d, want %d and %d", stats["pe"].Errors, stats["pb"].Errors, n/3, batches.Load())
		}
	})
	t.Run("stopgraph", func(t *testing.T) {
		g := flow.New()
		in := flow.Input[int](g, flow.Name("in"))
		var got collector[int]
		in.PhaseErr(1, func(v *int) error {
			if *v == 10 {
				return errContract
			}
			return nil
		}, flow.Name("pe")).Sink(1, got.add, flow.Name("out"))
		start(t, g)
		n := publishUntilEnd(t, g, in, errContract)
		items := got.items()
		if !slices.Equal(items, seq(n)) {
			t.Fatalf("committed %d, delivered %d (the failing entry must move on)", n, len(items))
		}
	})
}

// ckeyed is an entry with a key and its order among the entries of that key.
type ckeyed struct{ Key, N int }

// cPerStage is a Stateful stage's record of what it saw.
type cPerStage struct {
	index int
	keys  map[int]int // key -> last N seen
	count int
}

// TestContractStatefulLifecycle: Init runs "on the stage's goroutine, before Start returns
// and before the stage sees any entry", once per stage; KeyBy before Via routes the
// fragment's first level ("The stream's routing ... applies to f's first level"), keeping
// equal keys on one stage in order; End runs once per stage after its last input and what
// it emits is delivered before Stop returns.
func TestContractStatefulLifecycle(t *testing.T) {
	const width, keys, n = 3, 40, 4000
	var inits, ends atomic.Int64
	var mu sync.Mutex
	owner := map[int]int{}
	var bad atomic.Value
	frag := flow.Chain[ckeyed]().Stateful(width, flow.Stateful[ckeyed, *cPerStage, int]{
		Init: func(st *flow.Stage, e *flow.Emitter[int]) (*cPerStage, error) {
			inits.Add(1)
			if st.Level() != "agg" || e.Stage() != st {
				bad.Store(fmt.Sprintf("Init got level %q, emitter stage %p vs %p", st.Level(), e.Stage(), st))
			}
			return &cPerStage{index: st.Index(), keys: map[int]int{}}, nil
		},
		Each: func(s *cPerStage, v ckeyed, e *flow.Emitter[int]) error {
			if last, ok := s.keys[v.Key]; ok && v.N != last+1 {
				bad.Store(fmt.Sprintf("key %d: %d after %d", v.Key, v.N, last))
			}
			s.keys[v.Key] = v.N
			s.count++
			mu.Lock()
			if o, ok := owner[v.Key]; ok && o != s.index {
				bad.Store(fmt.Sprintf("key %d on stages %d and %d", v.Key, o, s.index))
			}
			owner[v.Key] = s.index
			mu.Unlock()
			return nil
		},
		End: func(s *cPerStage, e *flow.Emitter[int]) error {
			ends.Add(1)
			e.Emit(s.count)
			return nil
		},
	}, flow.Name("agg"))

	g := flow.New()
	in := flow.Input[ckeyed](g, flow.Name("in"))
	var counts collector[int]
	in.KeyBy(func(v ckeyed) uint64 { return uint64(v.Key) }).Via(frag).Sink(1, counts.add, flow.Name("out"))
	start(t, g)
	if inits.Load() != width {
		t.Fatalf("Start returned after %d of %d Inits", inits.Load(), width)
	}
	next := make([]int, keys)
	publishAll(t, in, n, func(i int) ckeyed {
		k := (i * 7) % keys
		next[k]++
		return ckeyed{k, next[k] - 1}
	})
	mustStop(t, g, nil)
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	if ends.Load() != width || inits.Load() != width {
		t.Fatalf("%d Inits and %d Ends for %d stages", inits.Load(), ends.Load(), width)
	}
	total := 0
	for _, c := range counts.items() {
		total += c
	}
	if len(counts.items()) != width || total != n {
		t.Fatalf("End hooks emitted %v (sum %d); want %d counts summing to %d", counts.items(), total, width, n)
	}
}

// TestContractEndRunsWhenAFailureStopsTheGraph: StopGraph "stops the graph: inputs close,
// everything already accepted drains"; End "runs once per stage after its inputs are
// closed and drained": a failure in Each does not skip End, and what End emits is delivered.
func TestContractEndRunsWhenAFailureStopsTheGraph(t *testing.T) {
	const width = 2
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var ends atomic.Int64
	var got collector[int]
	in.Stateful(width, flow.Stateful[int, *int, int]{
		Init: func(*flow.Stage, *flow.Emitter[int]) (*int, error) { return new(int), nil },
		Each: func(s *int, v int, e *flow.Emitter[int]) error {
			if v == 50 {
				return errContract
			}
			*s++
			return nil
		},
		End: func(s *int, e *flow.Emitter[int]) error {
			ends.Add(1)
			e.Emit(*s)
			return nil
		},
	}, flow.Name("agg")).Sink(1, got.add, flow.Name("out"))
	start(t, g)
	n := publishUntilEnd(t, g, in, errContract)
	if ends.Load() != width {
		t.Fatalf("End ran %d times for %d stages after a failure stopped the graph", ends.Load(), width)
	}
	total := 0
	for _, c := range got.items() {
		total += c
	}
	if total != n-1 {
		t.Fatalf("End hooks counted %d entries; %d were committed and one failed", total, n)
	}
}

// TestContractEndFailureHasNoSequence: StageError.Seq is "-1 where there is none": an End
// hook has no input sequence; its panic carries Panic and Stack.
func TestContractEndFailureHasNoSequence(t *testing.T) {
	for name, end := range map[string]func(int) error{
		"error": func(int) error { return errContract },
		"panic": func(int) error { panic(errContract) },
	} {
		t.Run(name, func(t *testing.T) {
			g := flow.New()
			in := flow.Input[int](g, flow.Name("in"))
			in.StatefulSink(1, flow.StatefulSink[int, int]{
				Each: func(int, int) error { return nil },
				End:  end,
			}, flow.Name("keep"))
			start(t, g)
			publishAll(t, in, 10, id)
			err := stopWithin(t, g, drainLimit)
			var se *flow.StageError
			if !errors.As(err, &se) {
				t.Fatalf("Stop: %v, want a *StageError", err)
			}
			if se.Level != "keep" || se.Stage != 0 || se.Seq != -1 {
				t.Fatalf("End's failure: level %q stage %d seq %d; want keep, 0, -1", se.Level, se.Stage, se.Seq)
			}
			if name == "panic" && (se.Panic == nil || len(se.Stack) == 0) {
				t.Fatalf("End's panic: Panic %v, %d bytes of stack", se.Panic, len(se.Stack))
			}
			if name == "error" && !errors.Is(err, errContract) {
				t.Fatalf("End's error %v does not wrap the hook's", err)
			}
		})
	}
}

// TestContractStopAndWaitInsideEveryCallback: "From inside a stage's function, use
// RequestStop: Stop and Wait there ... return ErrInsideStage instead", "Stop has begun the
// drain": from an ErrorSink's fn, a phase, a batch sink, an End hook and a source alike, and
// from the callbacks of a stage's loop ("run on the stage's goroutine"), a processing
// stage's or a source's: none may wait for its own stage.
func TestContractStopAndWaitInsideEveryCallback(t *testing.T) {
	type result struct{ stop, wait error }
	cases := map[string]func(g *flow.Graph, in *flow.Publisher[int], inside func()){
		"errorsink": func(g *flow.Graph, in *flow.Publisher[int], inside func()) {
			in.SinkErr(1, func(v int) error {
				if v == 3 {
					return errContract
				}
				return nil
			}, flow.OnError(flow.ErrorSink(func(*flow.StageError) { inside() })))
		},
		"phase": func(g *flow.Graph, in *flow.Publisher[int], inside func()) {
			in.Phase(1, func(v *int) {
				if *v == 3 {
					inside()
				}
			}).Sink(1, func(int) {})
		},
		"sinkbatch": func(g *flow.Graph, in *flow.Publisher[int], inside func()) {
			in.SinkBatch(1, func(b *flow.Batch[int]) error {
				for _, v := range b.All() {
					if *v == 3 {
						inside()
					}
				}
				return nil
			})
		},
		"end": func(g *flow.Graph, in *flow.Publisher[int], inside func()) {
			in.StatefulSink(1, flow.StatefulSink[int, int]{
				Each: func(int, int) error { return nil },
				End:  func(int) error { inside(); return nil },
			})
		},
		"source": func(g *flow.Graph, in *flow.Publisher[int], inside func()) {
			in.Sink(1, func(int) {})
			flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
				if err := s.Publish(1); err != nil {
					return err
				}
				inside()
				return nil
			}).Sink(1, func(int) {})
		},
		"timer": func(g *flow.Graph, in *flow.Publisher[int], inside func()) {
			in.StatefulSink(1, flow.StatefulSink[int, int]{
				Init: func(st *flow.Stage) (int, error) {
					st.Loop().AfterFunc(5*time.Millisecond, inside)
					return 0, nil
				},
				Each: func(int, int) error { return nil },
			}, flow.StageMode(flow.Dedicated))
		},
		"source timer": func(g *flow.Graph, in *flow.Publisher[int], inside func()) {
			in.Sink(1, func(int) {})
			flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
				s.Loop().AfterFunc(5*time.Millisecond, inside)
				return s.Publish(1)
			}).Sink(1, func(int) {})
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			g := flow.New()
			in := flow.Input[int](g, flow.Name("in"))
			results := make(chan result, 1)
			build(g, in, func() {
				w := g.Wait()
				s := g.Stop()
				select {
				case results <- result{s, w}:
				default:
				}
			})
			start(t, g)
			if name != "end" && name != "source" && name != "source timer" {
				publishUntilRefused(t, in, 100)
			}
			if name == "end" {
				g.RequestStop()
			}
			select {
			case r := <-results:
				if !errors.Is(r.stop, flow.ErrInsideStage) || !errors.Is(r.wait, flow.ErrInsideStage) {
					t.Fatalf("Stop and Wait inside %s: %v, %v; want ErrInsideStage", name, r.stop, r.wait)
				}
			case <-time.After(drainLimit):
				hung(t, g, "Stop or Wait inside "+name+" did not return", drainLimit)
			}
			waitWithin(t, g, drainLimit) // Stop from inside began the drain
			if err := g.Wait(); err != nil && !errors.Is(err, errContract) {
				t.Fatalf("Wait outside after an inside Stop: %v", err)
			}
		})
	}
}

// TestContractSourceContract: a source runs in the graph's mode and "has an event loop of
// its own in either mode", fn "runs once on each stage's goroutine"; "An entry a source's Emit accepted is
// delivered like a published one"; Emit "returns ErrStopped, publishing nothing, once the
// graph is stopping"; OnStop runs when the stage ends; Completed reaches what was emitted.
func TestContractSourceContract(t *testing.T) {
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			const width = 2
			g := flow.New(flow.GraphMode(mode))
			var accepted, onStops, calls atomic.Int64
			var bad atomic.Value
			stages := make([]*flow.SourceStage[int], width)
			var got atomic.Int64
			flow.Source(g, width, func(s *flow.SourceStage[int]) error {
				calls.Add(1)
				stages[s.Index()] = s
				if s.Mode() != mode || s.Loop() == nil || s.Level() != "src" {
					bad.Store(fmt.Sprintf("source stage %d: mode %v (want %v), loop %p, level %q", s.Index(), s.Mode(), mode, s.Loop(), s.Level()))
				}
				s.OnStop(func() { onStops.Add(1) })
				for i := 0; ; i++ {
					if err := s.Emit(i); err != nil {
						if !errors.Is(err, flow.ErrStopped) {
							bad.Store(fmt.Sprintf("Emit: %v", err))
						}
						return nil
					}
					accepted.Add(1)
					if i == 5000 {
						s.Flush()
						s.RequestStop()
					}
				}
			}, flow.Name("src")).Then(1, id, flow.Name("work")).Sink(1, func(int) { got.Add(1) }, flow.Name("out"))
			start(t, g)
			mustEnd(t, g)
			if v := bad.Load(); v != nil {
				t.Fatal(v)
			}
			if calls.Load() != width || onStops.Load() != width {
				t.Fatalf("fn ran %d times, OnStop %d times, for %d stages", calls.Load(), onStops.Load(), width)
			}
			if got.Load() != accepted.Load() {
				t.Fatalf("Emit accepted %d entries, the sink got %d", accepted.Load(), got.Load())
			}
			var completed int64
			for _, s := range stages {
				completed += s.Completed()
			}
			if completed != accepted.Load() {
				t.Fatalf("after the graph stopped, Completed sums to %d of %d emitted", completed, accepted.Load())
			}
			for _, s := range g.Stats() {
				if s.Level == "src" && s.Mode != mode {
					t.Fatalf("Stats shows source stage %d in mode %v under GraphMode(%v)", s.Stage, s.Mode, mode)
				}
				if s.Level == "work" && s.Mode != mode {
					t.Fatalf("Stats shows work stage in mode %v under GraphMode(%v)", s.Mode, mode)
				}
			}
		})
	}
}

// TestContractFinishedSourcesStopTheGraph: "A graph whose sources have all finished and that
// has no Input stops by itself"; "Its Stopping also reports a stage that called Finish";
// every entry published before Finish is delivered.
func TestContractFinishedSourcesStopTheGraph(t *testing.T) {
	g := flow.New()
	var got atomic.Int64
	var stoppingAfterFinish atomic.Int64
	flow.Source(g, 3, func(s *flow.SourceStage[int]) error {
		n := 100 * (s.Index() + 1)
		for i := range n {
			if err := s.Emit(i); err != nil {
				return err
			}
		}
		s.Finish()
		if s.Stopping() {
			stoppingAfterFinish.Add(1)
		}
		return nil
	}, flow.Name("src")).Sink(2, func(int) { got.Add(1) }, flow.Name("out"))
	start(t, g)
	mustEnd(t, g)
	if got.Load() != 600 {
		t.Fatalf("delivered %d of 600", got.Load())
	}
	if stoppingAfterFinish.Load() != 3 {
		t.Fatalf("Stopping reported true after Finish on %d of 3 stages", stoppingAfterFinish.Load())
	}
}

// TestContractSourceErrorKeepsWhatItEmitted: "An error from fn is handled by the level's
// error policy and ends the stage"; what it emitted before is delivered.
func TestContractSourceErrorKeepsWhatItEmitted(t *testing.T) {
	g := flow.New()
	var got atomic.Int64
	flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
		for i := range 300 {
			if err := s.Emit(i); err != nil {
				return err
			}
		}
		return errContract
	}, flow.Name("src")).Sink(1, func(int) { got.Add(1) }, flow.Name("out"))
	start(t, g)
	waitWithin(t, g, drainLimit) // StopGraph stops the graph
	if err := g.Wait(); !errors.Is(err, errContract) {
		t.Fatalf("Wait: %v", err)
	}
	var se *flow.StageError
	if !errors.As(g.Err(), &se) || se.Level != "src" || se.Seq != -1 {
		t.Fatalf("source failure: %+v, want level src, seq -1", se)
	}
	if got.Load() != 300 {
		t.Fatalf("delivered %d of the 300 entries emitted before the error", got.Load())
	}
}

// TestContractPartitionBy: PartitionBy "sends each entry to stage part(entry) mod n";
// entries with any partition, negative and huge ones included, are delivered once each,
// and one partition always reaches one stage.
func TestContractPartitionBy(t *testing.T) {
	const width, n = 4, 2000
	parts := []int{0, 1, 2, 3, 5, 1 << 30, math.MaxInt, -1, -6, math.MinInt}
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var mu sync.Mutex
	stageOf := map[int]int{}
	var bad atomic.Value
	var got collector[int]
	in.PartitionBy(func(v int) int { return parts[v%len(parts)] }).SinkBatch(width, func(b *flow.Batch[int]) error {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range b.All() {
			p := parts[*v%len(parts)]
			if s, ok := stageOf[p]; ok && s != b.Stage().Index() {
				bad.Store(fmt.Sprintf("partition %d on stages %d and %d", p, s, b.Stage().Index()))
			}
			stageOf[p] = b.Stage().Index()
			if p >= 0 && p%width != b.Stage().Index() {
				bad.Store(fmt.Sprintf("partition %d on stage %d, want %d", p, b.Stage().Index(), p%width))
			}
			got.add(*v)
		}
		return nil
	}, flow.Name("out"))
	start(t, g)
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	items := got.items()
	slices.Sort(items)
	if !slices.Equal(items, seq(n)) {
		t.Fatalf("delivered %d entries, want each of %d once", len(items), n)
	}
}

// TestContractFragmentAppliedTwiceToOneGraph: "one fragment may be applied to any number of
// streams"; unnamed levels get fresh names, but a named level applied twice duplicates
// its name, and "Names must be unique in a graph" (a Start error).
func TestContractFragmentAppliedTwiceToOneGraph(t *testing.T) {
	double := flow.Level(2, func(v int) int { return 2 * v })
	g := flow.New()
	a := flow.Input[int](g, flow.Name("a"))
	b := flow.Input[int](g, flow.Name("b"))
	var ga, gb atomic.Int64
	a.Via(double).Sink(1, func(v int) { ga.Add(int64(v)) })
	b.Via(double).Via(double).Sink(1, func(v int) { gb.Add(int64(v)) })
	start(t, g)
	publishAll(t, a, 100, id)
	publishAll(t, b, 100, id)
	mustStop(t, g, nil)
	if ga.Load() != 2*4950 || gb.Load() != 4*4950 {
		t.Fatalf("sums %d and %d, want %d and %d", ga.Load(), gb.Load(), 2*4950, 4*4950)
	}

	named := flow.Level(1, id, flow.Name("twice"))
	g2 := flow.New()
	c := flow.Input[int](g2, flow.Name("c"))
	c.Via(named).Sink(1, func(int) {})
	c.Via(named).Sink(1, func(int) {})
	err := g2.Start(context.Background())
	if err == nil {
		_ = g2.Stop()
	}
	errorMentions(t, err, "twice")
}

// TestContractNilFragmentsAreBuildErrors: "A nil f is reported by Start"; "misuse such as a
// nil function or fragment" is a Start error, for Fragment.Via too.
func TestContractNilFragmentsAreBuildErrors(t *testing.T) {
	t.Run("stream", func(t *testing.T) {
		g := flow.New()
		in := flow.Input[int](g, flow.Name("in"))
		in.Via((*flow.Fragment[int, int])(nil)).Sink(1, func(int) {})
		err := g.Start(context.Background())
		if err == nil {
			_ = g.Stop()
			t.Fatal("Start accepted a nil fragment")
		}
	})
	t.Run("fragment", func(t *testing.T) {
		g := flow.New()
		in := flow.Input[int](g, flow.Name("in"))
		in.Via(flow.Level(1, id).Via((*flow.Fragment[int, int])(nil))).Sink(1, func(int) {})
		err := g.Start(context.Background())
		if err == nil {
			_ = g.Stop()
			t.Fatal("Start accepted a nil fragment in Fragment.Via")
		}
	})
}

// TestContractRunReportsWhatItDidNotDeliver: Run: "Every entry of in is delivered or the
// error says why not", also when its context ends midway; and the empty input is fine.
func TestContractRunReportsWhatItDidNotDeliver(t *testing.T) {
	out, err := flow.Level(2, id).Run(context.Background(), nil)
	if err != nil || len(out) != 0 {
		t.Fatalf("Run of nothing: %v, %v", out, err)
	}
	// The level holds its first entry until Run's context ends, so Run's publishing blocks on
	// the full rings and its context ends midway.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var calls atomic.Int64
	slow := flow.Level(1, func(v int) int {
		calls.Add(1)
		if v == 0 {
			<-ctx.Done()
		}
		return v
	}, flow.Capacity(4))
	in := seq(50000)
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, err = slow.Run(ctx, in)
	}()
	select {
	case <-done:
	case <-time.After(drainLimit):
		t.Fatal("Run did not return after its context ended")
	}
	if len(out) < len(in) && err == nil {
		t.Fatalf("Run delivered %d of %d entries and returned no error", len(out), len(in))
	}
	if !slices.Equal(out, in[:len(out)]) {
		t.Fatalf("Run at width 1 returned entries out of order or not a prefix")
	}
	t.Logf("Run after its context ended: %d of %d returned, %d mapped, %v", len(out), len(in), calls.Load(), err)
	// Run "returns what reached the sink": every entry the level mapped went on to the sink
	// before the graph stopped.
	if int64(len(out)) != calls.Load() {
		t.Fatalf("Run returned %d outputs (%v) after its level mapped %d entries", len(out), err, calls.Load())
	}
}

// TestContractRunReturnsWhatArrivedDespiteAFailure: Run "returns what reached the sink ...
// with the graph's error": a failure under StopGraph does not discard what arrived.
func TestContractRunReturnsWhatArrivedDespiteAFailure(t *testing.T) {
	frag := flow.Chain[int]().ThenErr(1, func(v int) (int, error) {
		if v == 50 {
			return 0, errContract
		}
		return v, nil
	}, flow.Name("check"))
	out, err := frag.Run(context.Background(), seq(100))
	if !errors.Is(err, errContract) {
		t.Fatalf("Run: %v, want the level's failure", err)
	}
	if len(out) < 50 || !slices.Equal(out[:50], seq(50)) {
		t.Fatalf("Run returned %d outputs with its error; want at least the 50 mapped before the failure", len(out))
	}
}

// TestContractStatsShape: Stats is "a snapshot of every stage, in level order"; Capacity
// is "the size of the stage's own ring (0 for sinks and phases)"; CPU is -1 unpinned;
// Handled counts each stage's share (every entry once under shared routing, once per stage
// under broadcast); Queue is empty after Stop; Mode agrees with the stage's handle.
func TestContractStatsShape(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"), flow.Capacity(64))
	var modes sync.Map // level/stage -> Mode seen by the stage itself
	work := in.Expand(2, func(v int, e *flow.Emitter[int]) {
		modes.Store(fmt.Sprintf("work/%d", e.Stage().Index()), e.Stage().Mode())
		e.Emit(v)
	}, flow.Name("work"), flow.Capacity(32))
	work.Phase(2, func(*int) {}, flow.Name("phase")).
		Filter(3, func(v int) (int, bool) { return v, v%2 == 0 }, flow.Name("even"), flow.Capacity(16)).
		Broadcast().Sink(2, func(int) {}, flow.Name("all"))
	start(t, g)
	const n = 1000
	publishAll(t, in, n, id)
	mustStop(t, g, nil)

	order := map[string]int{"work": 1, "phase": 2, "even": 3, "all": 4}
	caps := map[string]int{"work": 32, "phase": 0, "even": 16, "all": 0}
	widths := map[string]int{"work": 2, "phase": 2, "even": 3, "all": 2}
	handled := map[string]uint64{}
	outs := map[string]uint64{}
	seen := map[string]int{}
	last, lastStage := 0, -1
	lastLevel := ""
	for _, s := range g.Stats() {
		rank, ok := order[s.Level]
		if !ok {
			continue
		}
		if rank < last || (s.Level == lastLevel && s.Stage != lastStage+1) || (s.Level != lastLevel && s.Stage != 0) {
			t.Fatalf("Stats out of level order at %s stage %d:\n%s", s.Level, s.Stage, statsText(g))
		}
		last, lastLevel, lastStage = rank, s.Level, s.Stage
		if s.Capacity != caps[s.Level] {
			t.Errorf("%s stage %d: Capacity %d, want %d", s.Level, s.Stage, s.Capacity, caps[s.Level])
		}
		if s.CPU != -1 {
			t.Errorf("%s stage %d: CPU %d without placement, want -1", s.Level, s.Stage, s.CPU)
		}
		if s.Queue != 0 {
			t.Errorf("%s stage %d: Queue %d after Stop", s.Level, s.Stage, s.Queue)
		}
		if s.Errors != 0 {
			t.Errorf("%s stage %d: %d errors", s.Level, s.Stage, s.Errors)
		}
		if m, ok := modes.Load(fmt.Sprintf("%s/%d", s.Level, s.Stage)); ok && m.(flow.Mode) != s.Mode {
			t.Errorf("%s stage %d: Stats says mode %v, the stage says %v", s.Level, s.Stage, s.Mode, m)
		}
		handled[s.Level] += s.Handled
		outs[s.Level] += s.Out
		seen[s.Level]++
	}
	for level, w := range widths {
		if seen[level] != w {
			t.Errorf("Stats lists %d stages of %s, want %d", seen[level], level, w)
		}
	}
	want := map[string]uint64{"work": n, "phase": n, "even": n, "all": 2 * n / 2}
	for level, h := range want {
		if handled[level] != h {
			t.Errorf("%s handled %d, want %d", level, handled[level], h)
		}
	}
	if outs["work"] != n || outs["even"] != n/2 {
		t.Errorf("published: work %d, even %d; want %d, %d", outs["work"], outs["even"], n, n/2)
	}
}

// TestContractCompletedNeverEarlyAndReachesAll: Completed "never counts an entry before
// every level that reads it ... is done with it" and counts everything "whatever became of
// them on the way (filtered, skipped by an error policy, expanded, broadcast)".
func TestContractCompletedNeverEarlyAndReachesAll(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	gate := make(chan struct{})
	var gated atomic.Bool
	gated.Store(true)
	in.Filter(2, func(v int) (int, bool) { return v, v%3 != 0 }, flow.Name("filter")).
		ThenErr(2, func(v int) (int, error) {
			if v%5 == 0 {
				return 0, errContract
			}
			return v, nil
		}, flow.Name("fail"), flow.OnError(flow.Skip)).
		Expand(1, func(v int, e *flow.Emitter[int]) {
			for range v % 4 {
				e.Emit(v)
			}
		}, flow.Name("expand")).
		Broadcast().Sink(2, func(v int) {
		if v == 1 && gated.Load() {
			<-gate
		}
	}, flow.Name("out"))
	start(t, g)
	const n = 1000
	publishAll(t, in, n, id)
	// Entry 1 reaches the sink (expanded once, broadcast to both stages) and is held there:
	// nothing from entry 1 on may be complete. Entry 0 is filtered out.
	time.Sleep(50 * time.Millisecond)
	if c := in.Completed(); c > 1 {
		t.Fatalf("Completed is %d while entry 1 is held in a sink", c)
	}
	gated.Store(false)
	close(gate)
	if !eventually(func() bool { return in.Completed() == n }) {
		t.Fatalf("Completed reached %d of %d once every level caught up\n%s", in.Completed(), n, statsText(g))
	}
	mustStop(t, g, nil)
	if c := in.Completed(); c != n {
		t.Fatalf("Completed %d of %d after Stop", c, n)
	}
}

// TestContractEmitterOnATinyRing: Emit "When the ring is full ... commits what is pending
// and wakes the readers, so they can make room, then waits for a free slot": an Expand
// that emits far more than its ring holds neither deadlocks nor loses nor reorders.
func TestContractEmitterOnATinyRing(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var got collector[int]
	in.Expand(1, func(v int, e *flow.Emitter[int]) {
		for i := range 500 {
			e.Emit(v*500 + i)
		}
	}, flow.Name("expand"), flow.Capacity(2)).Sink(1, got.add, flow.Name("out"))
	start(t, g)
	publishAll(t, in, 20, id)
	mustStop(t, g, nil)
	if items := got.items(); !slices.Equal(items, seq(20*500)) {
		t.Fatalf("delivered %d of %d, or out of order", len(items), 20*500)
	}
	if s := perLevel(g)["expand"]; s.Blocked == 0 {
		t.Logf("expand never found its ring of 2 full (%+v)", s)
	}
}

// TestContractRequestStopFromAStageDrains: Stage.RequestStop "begins the graph's drain";
// "Processing stages go on until their inputs are drained whatever [Stopping] says".
func TestContractRequestStopFromAStageDrains(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var afterStop, got atomic.Int64
	in.Expand(2, func(v int, e *flow.Emitter[int]) {
		if v == 200 {
			e.Stage().RequestStop()
		}
		if e.Stage().Stopping() {
			afterStop.Add(1)
		}
		e.Emit(v)
	}, flow.Name("work")).Sink(1, func(int) { got.Add(1) }, flow.Name("out"))
	start(t, g)
	n := publishUntilEnd(t, g, in, nil)
	if got.Load() != int64(n) {
		t.Fatalf("committed %d, delivered %d", n, got.Load())
	}
	if afterStop.Load() == 0 {
		t.Fatal("Stopping never reported true after RequestStop")
	}
}

// TestContractOptionsAreValidated: "a bad capacity or option" is a Start error: Capacity on
// an Input, GraphSpin, and modes out of range.
func TestContractOptionsAreValidated(t *testing.T) {
	cases := map[string]func() *flow.Graph{
		"input capacity 3": func() *flow.Graph {
			g := flow.New()
			flow.Input[int](g, flow.Capacity(3)).Sink(1, func(int) {})
			return g
		},
		"input capacity 0": func() *flow.Graph {
			g := flow.New()
			flow.Input[int](g, flow.Capacity(0)).Sink(1, func(int) {})
			return g
		},
		"negative graph spin": func() *flow.Graph {
			g := flow.New(flow.GraphSpin(-time.Second))
			flow.Input[int](g).Sink(1, func(int) {})
			return g
		},
		"graph mode out of range": func() *flow.Graph {
			g := flow.New(flow.GraphMode(flow.Mode(42)))
			flow.Input[int](g).Sink(1, func(int) {})
			return g
		},
		"stage mode out of range": func() *flow.Graph {
			g := flow.New()
			flow.Input[int](g).Sink(1, func(int) {}, flow.StageMode(flow.Mode(42)))
			return g
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			g := build()
			if err := g.Start(context.Background()); err == nil {
				_ = g.Stop()
				t.Fatalf("Start accepted a graph with %s", name)
			}
		})
	}
}

// TestContractStringers: Mode and ErrorPolicy have distinct names.
func TestContractStringers(t *testing.T) {
	modes := []string{flow.Auto.String(), flow.Dedicated.String(), flow.Shared.String()}
	policies := []string{flow.StopGraph.String(), flow.Skip.String(), flow.ErrorSink(func(*flow.StageError) {}).String()}
	for _, names := range [][]string{modes, policies} {
		if slices.Contains(names, "") || len(slices.Compact(slices.Sorted(slices.Values(names)))) != 3 {
			t.Fatalf("names not distinct: %q", names)
		}
	}
}

// TestContractIdleStartStop: a graph that never sees an entry starts and stops cleanly in
// both modes; End hooks run once per stage with an empty state.
func TestContractIdleStartStop(t *testing.T) {
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			g := flow.New(flow.GraphMode(mode))
			in := flow.Input[int](g, flow.Name("in"))
			var ends atomic.Int64
			in.KeyBy(func(v int) uint64 { return uint64(v) }).Stateful(3, flow.Stateful[int, int, int]{
				Each: func(int, int, *flow.Emitter[int]) error { return nil },
				End:  func(s int, e *flow.Emitter[int]) error { ends.Add(1); e.Emit(s); return nil },
			}, flow.Name("agg")).StatefulSink(2, flow.StatefulSink[int, int]{
				Each: func(int, int) error { return nil },
				End:  func(int) error { ends.Add(1); return nil },
			}, flow.Name("out"))
			start(t, g)
			mustStop(t, g, nil)
			if ends.Load() != 5 {
				t.Fatalf("%d End hooks ran for 5 stages", ends.Load())
			}
			for _, s := range g.Stats() {
				if (s.Level == "agg" || s.Level == "out") && s.Mode != mode {
					t.Fatalf("%s stage %d in mode %v under GraphMode(%v)", s.Level, s.Stage, s.Mode, mode)
				}
			}
		})
	}
}

// TestContractRoutingIsAValue: "Streams are values of the builder": KeyBy and Broadcast
// return the stream with that routing and leave the stream they were called on as it was,
// so a level attached to the plain stream still divides entries (each to exactly one stage).
func TestContractRoutingIsAValue(t *testing.T) {
	const width, n = 3, 900
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	s := in.Then(1, id, flow.Name("src"))
	_ = s.Broadcast()
	s.Broadcast().Sink(width, func(int) {}, flow.Name("bcast"))
	s.KeyBy(func(v int) uint64 { return uint64(v) }).Sink(width, func(int) {}, flow.Name("keyed"))
	s.Sink(width, func(int) {}, flow.Name("plain"))
	start(t, g)
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	handled := map[string]uint64{}
	for _, st := range g.Stats() {
		handled[st.Level] += st.Handled
	}
	if handled["bcast"] != width*n || handled["keyed"] != n || handled["plain"] != n {
		t.Fatalf("handled: broadcast %d, keyed %d, plain %d; want %d, %d, %d",
			handled["bcast"], handled["keyed"], handled["plain"], width*n, n, n)
	}
}

// TestContractPublishBatchLargerThanTheRing: PublishBatch claims and commits "in runs as
// large as the ring allows": a batch many times the ring's size is delivered whole, in order.
func TestContractPublishBatchLargerThanTheRing(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(2), flow.Name("in"))
	var got collector[int]
	in.Sink(1, got.add, flow.Name("out"))
	start(t, g)
	vs := seq(5000)
	n, err := in.PublishBatch(context.Background(), vs)
	if n != len(vs) || err != nil {
		t.Fatalf("PublishBatch: %d, %v; want %d, nil", n, err, len(vs))
	}
	if n, err := in.PublishBatch(context.Background(), nil); n != 0 || err != nil {
		t.Fatalf("PublishBatch of nothing: %d, %v", n, err)
	}
	mustStop(t, g, nil)
	if !slices.Equal(got.items(), vs) {
		t.Fatalf("delivered %d of %d, or out of order", len(got.items()), len(vs))
	}
	if c := in.Completed(); c != int64(len(vs)) {
		t.Fatalf("Completed %d after Stop, want %d", c, len(vs))
	}
}

// TestContractStartWithADoneContext: "Cancelling ctx stops the graph as Stop does": a
// context already done at Start either fails Start or stops the graph at once, with Wait
// returning ctx.Err(); whatever a Publish committed meanwhile is delivered.
func TestContractStartWithADoneContext(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var got atomic.Int64
	in.Then(2, id, flow.Name("work")).Sink(1, func(int) { got.Add(1) }, flow.Name("out"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := g.Start(ctx); err != nil {
		t.Logf("Start with a done context: %v", err)
		return
	}
	t.Cleanup(func() { _ = g.Stop() })
	n := publishUntilEnd(t, g, in, context.Canceled)
	if got.Load() != int64(n) {
		t.Fatalf("committed %d, delivered %d", n, got.Load())
	}
}

// TestContractGOMAXPROCSRestoredHoweverTheGraphStops: "Start raises GOMAXPROCS by the
// graph's dedicated stages while the graph runs, and the last running graph to stop
// restores the value it found": also when the graph stops by itself (its sources
// finished, a failure under StopGraph, its context), and when Start fails.
func TestContractGOMAXPROCSRestoredHoweverTheGraphStops(t *testing.T) {
	base := runtime.GOMAXPROCS(0)
	cases := map[string]func() (*flow.Graph, context.CancelFunc){
		"sources finished": func() (*flow.Graph, context.CancelFunc) {
			g := flow.New(flow.GraphMode(flow.Dedicated))
			flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
				_ = s.Publish(1)
				s.Finish()
				return nil
			}).Then(2, id).Sink(1, func(int) {})
			return g, func() {}
		},
		"failure": func() (*flow.Graph, context.CancelFunc) {
			g := flow.New(flow.GraphMode(flow.Dedicated))
			flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
				return errContract
			}).Then(2, id).Sink(1, func(int) {})
			return g, func() {}
		},
		"context": func() (*flow.Graph, context.CancelFunc) {
			g := flow.New(flow.GraphMode(flow.Dedicated))
			flow.Input[int](g).Then(2, id).Sink(1, func(int) {})
			return g, nil
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			g, cancel := build()
			ctx := context.Background()
			if cancel == nil {
				ctx, cancel = context.WithCancel(ctx)
			}
			if err := g.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = g.Stop() })
			cancel()
			waitWithin(t, g, drainLimit)
			_ = g.Wait()
			if got := runtime.GOMAXPROCS(0); got != base {
				t.Fatalf("GOMAXPROCS %d after the graph stopped by itself (%s), want %d", got, name, base)
			}
		})
	}
	t.Run("failed start", func(t *testing.T) {
		g := flow.New(flow.GraphMode(flow.Dedicated))
		flow.Input[int](g).Then(2, id).StatefulSink(2, flow.StatefulSink[int, int]{
			Init: func(st *flow.Stage) (int, error) {
				if st.Index() == 1 {
					return 0, errContract
				}
				return 0, nil
			},
			Each: func(int, int) error { return nil },
		})
		if err := g.Start(context.Background()); !errors.Is(err, errContract) {
			t.Fatalf("Start: %v", err)
		}
		if got := runtime.GOMAXPROCS(0); got != base {
			t.Fatalf("GOMAXPROCS %d after a failed Start, want %d", got, base)
		}
	})
}

// TestContractSharedStagesHaveNoLoop: a shared stage "has no loop" (Loop is nil) and its
// Wakeups are 0 ("shared: 0"); a level's ring is 8192 by default; StageMode(Dedicated) in a
// shared graph gives that level a loop.
func TestContractSharedStagesHaveNoLoop(t *testing.T) {
	g := flow.New(flow.GraphMode(flow.Shared))
	in := flow.Input[int](g, flow.Name("in"))
	var bad atomic.Value
	in.Expand(2, func(v int, e *flow.Emitter[int]) {
		if e.Stage().Loop() != nil || e.Stage().Mode() != flow.Shared {
			bad.Store("a shared stage has a loop or the wrong mode")
		}
		e.Emit(v)
	}, flow.Name("shared")).
		Expand(1, func(v int, e *flow.Emitter[int]) {
			if e.Stage().Loop() == nil || e.Stage().Mode() != flow.Dedicated {
				bad.Store("a StageMode(Dedicated) stage has no loop or the wrong mode")
			}
			e.Emit(v)
		}, flow.Name("dedicated"), flow.StageMode(flow.Dedicated)).
		Sink(2, func(int) {}, flow.Name("out"))
	start(t, g)
	for i := range 200 {
		if err := in.Publish(context.Background(), i); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			time.Sleep(time.Millisecond) // let the stages fall asleep now and then
		}
	}
	mustStop(t, g, nil)
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	for _, s := range g.Stats() {
		switch s.Level {
		case "shared", "out":
			if s.Mode != flow.Shared || s.Wakeups != 0 {
				t.Errorf("%s stage %d: mode %v, %d wakeups; want shared, 0", s.Level, s.Stage, s.Mode, s.Wakeups)
			}
		case "dedicated":
			if s.Mode != flow.Dedicated {
				t.Errorf("dedicated stage in mode %v", s.Mode)
			}
		}
		if (s.Level == "shared" || s.Level == "dedicated") && s.Capacity != 8192 {
			t.Errorf("%s stage %d: Capacity %d, want the default 8192", s.Level, s.Stage, s.Capacity)
		}
	}
}

// TestContractStatefulBatchLevels: Stateful with Batch "processes each whole batch, as
// ThenBatch does", each stage getting its own share under key routing; StatefulSink's Init
// gets its stage and End "runs after the stage's last entry".
func TestContractStatefulBatchLevels(t *testing.T) {
	const width, n = 3, 3000
	type sums struct {
		stage int
		keys  map[int]bool
		n     int
	}
	var mu sync.Mutex
	owner := map[int]int{}
	var bad atomic.Value
	var total, ends atomic.Int64
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	in.KeyBy(func(v int) uint64 { return uint64(v % 50) }).Stateful(width, flow.Stateful[int, *sums, int]{
		Init: func(st *flow.Stage, _ *flow.Emitter[int]) (*sums, error) {
			return &sums{stage: st.Index(), keys: map[int]bool{}}, nil
		},
		Batch: func(s *sums, b *flow.Batch[int], e *flow.Emitter[int]) error {
			if b.Stage().Index() != s.stage {
				bad.Store("a stage's batch came with another stage's state")
			}
			mu.Lock()
			for _, v := range b.All() {
				k := *v % 50
				if o, ok := owner[k]; ok && o != s.stage {
					bad.Store(fmt.Sprintf("key %d on stages %d and %d", k, o, s.stage))
				}
				owner[k] = s.stage
				s.n++
			}
			mu.Unlock()
			return nil
		},
		End: func(s *sums, e *flow.Emitter[int]) error {
			e.Emit(s.n)
			return nil
		},
	}, flow.Name("agg")).StatefulSink(2, flow.StatefulSink[int, *sums]{
		Init: func(st *flow.Stage) (*sums, error) {
			if st.Level() != "sum" {
				bad.Store("StatefulSink Init got level " + st.Level())
			}
			return &sums{stage: st.Index()}, nil
		},
		Each: func(s *sums, v int) error { s.n += v; return nil },
		End: func(s *sums) error {
			ends.Add(1)
			total.Add(int64(s.n))
			return nil
		},
	}, flow.Name("sum"))
	start(t, g)
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	if v := bad.Load(); v != nil {
		t.Fatal(v)
	}
	if ends.Load() != 2 || total.Load() != n {
		t.Fatalf("%d sink End hooks totalled %d; want 2 totalling %d", ends.Load(), total.Load(), n)
	}
}

// TestContractRunAppliesGraphOptions: Run's "opts apply to the graph".
func TestContractRunAppliesGraphOptions(t *testing.T) {
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		t.Run(mode.String(), func(t *testing.T) {
			var wrong atomic.Int64
			frag := flow.Chain[int]().Expand(2, func(v int, e *flow.Emitter[int]) {
				if e.Stage().Mode() != mode {
					wrong.Add(1)
				}
				e.Emit(v)
			})
			out, err := frag.Run(context.Background(), seq(100), flow.GraphMode(mode))
			if err != nil || len(out) != 100 {
				t.Fatalf("Run: %d outputs, %v", len(out), err)
			}
			if wrong.Load() != 0 {
				t.Fatalf("%d entries ran in a mode other than GraphMode(%v)", wrong.Load(), mode)
			}
		})
	}
}

// TestContractPartitionPanicFailsOneEntry: a panicking partition function is a failure of
// user code, like a key function's: it loses that entry and the graph carries on under Skip.
func TestContractPartitionPanicFailsOneEntry(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var got atomic.Int64
	in.PartitionBy(func(v int) int {
		if v == 5 {
			panic("bad partition")
		}
		return v
	}).Sink(2, func(int) { got.Add(1) }, flow.Name("out"), flow.OnError(flow.Skip))
	start(t, g)
	publishAll(t, in, 100, id)
	mustStop(t, g, nil)
	if got.Load() != 99 {
		t.Fatalf("delivered %d; want 99 (all but the one whose partition panicked)", got.Load())
	}
	// Every stage of the level may evaluate the partition of every entry (as the key test
	// of faults_test.go says of key functions), so each may report it: 1 or 2 errors.
	if errs := perLevel(g)["out"].Errors; errs < 1 || errs > 2 {
		t.Fatalf("counted %d errors, want 1 or 2", errs)
	}
}

// TestContractErrorSinkGetsEndFailures: an End failure "is handled by the level's error
// policy": ErrorSink gets it (with Seq -1) and the graph's error stays nil.
func TestContractErrorSinkGetsEndFailures(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var got []*flow.StageError
	var mu sync.Mutex
	in.StatefulSink(2, flow.StatefulSink[int, int]{
		Each: func(int, int) error { return nil },
		End:  func(int) error { return errContract },
	}, flow.Name("keep"), flow.OnError(flow.ErrorSink(func(se *flow.StageError) {
		mu.Lock()
		got = append(got, se)
		mu.Unlock()
	})))
	start(t, g)
	publishAll(t, in, 10, id)
	mustStop(t, g, nil)
	if len(got) != 2 {
		t.Fatalf("ErrorSink got %d End failures, want 2", len(got))
	}
	for _, se := range got {
		if se.Seq != -1 || se.Level != "keep" || !errors.Is(se, errContract) {
			t.Fatalf("End failure: %+v", se)
		}
	}
}

// TestContractMergeOfOneLevelsStreams: "Streams over the same rings (phases of one level)
// combine into one attachment that waits for all of their phases": merging a level's stream
// with a phase over it (or a stream with itself) delivers each entry once, after the phase.
func TestContractMergeOfOneLevelsStreams(t *testing.T) {
	type entry struct{ V, Phased int }
	for name, merge := range map[string]func(s *flow.Stream[entry]) *flow.Stream[entry]{
		"stream and its phase": func(s *flow.Stream[entry]) *flow.Stream[entry] {
			p := s.Phase(1, func(e *entry) { e.Phased = e.V + 1 }, flow.Name("phase"))
			return flow.Merge(s, p)
		},
		"phase twice": func(s *flow.Stream[entry]) *flow.Stream[entry] {
			p := s.Phase(1, func(e *entry) { e.Phased = e.V + 1 }, flow.Name("phase"))
			return flow.Merge(p, p)
		},
	} {
		t.Run(name, func(t *testing.T) {
			const n = 1000
			g := flow.New()
			in := flow.Input[int](g, flow.Name("in"))
			s := in.Then(2, func(v int) entry { return entry{V: v} }, flow.Name("work"))
			var got collector[entry]
			merge(s).Sink(2, got.add, flow.Name("out"))
			start(t, g)
			publishAll(t, in, n, id)
			mustStop(t, g, nil)
			items := got.items()
			if len(items) != n {
				t.Fatalf("delivered %d entries of %d", len(items), n)
			}
			vs := make([]int, 0, n)
			for _, e := range items {
				if e.Phased != e.V+1 {
					t.Fatalf("the sink read %+v before the phase wrote it", e)
				}
				vs = append(vs, e.V)
			}
			slices.Sort(vs)
			if !slices.Equal(vs, seq(n)) {
				t.Fatal("an entry was delivered twice and another never")
			}
		})
	}
}

// TestContractCompletedAfterAFailureStop: Completed reaches every committed entry "once the
// levels below have caught up", including the entry that failed, when a failure under
// StopGraph stopped the graph; with several publishing goroutines too.
func TestContractCompletedAfterAFailureStop(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	in.Then(2, id, flow.Name("work")).SinkErr(2, func(v int) error {
		if v == 20_000 {
			return errContract
		}
		return nil
	}, flow.Name("out"))
	start(t, g)
	var committed atomic.Int64
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Go(func() {
			for i := p; ; i += 4 {
				if err := in.Publish(context.Background(), i); err != nil {
					return
				}
				committed.Add(1)
			}
		})
	}
	waitWithin(t, g, drainLimit)
	wg.Wait()
	if !errors.Is(g.Wait(), errContract) {
		t.Fatalf("Wait: %v", g.Wait())
	}
	if c := in.Completed(); c != committed.Load() {
		t.Fatalf("Completed %d after the graph stopped; %d were committed", c, committed.Load())
	}
}

// TestContractErrStoppedForEveryPublisherAfterAFailedStart: after a Start that failed on a
// resource (an Init error), every publisher method refuses: "A nil error means the entry is
// committed and will be delivered".
func TestContractErrStoppedForEveryPublisherAfterAFailedStart(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	in.StatefulSink(1, flow.StatefulSink[int, int]{
		Init: func(*flow.Stage) (int, error) { return 0, errContract },
		Each: func(int, int) error { return nil },
	})
	if err := g.Start(context.Background()); !errors.Is(err, errContract) {
		t.Fatalf("Start: %v", err)
	}
	if err := in.TryPublish(1); err == nil {
		t.Fatal("TryPublish into a graph that failed to start returned nil")
	}
	if n, err := in.PublishBatch(context.Background(), []int{1, 2}); n != 0 || err == nil {
		t.Fatalf("PublishBatch into a graph that failed to start: %d, %v", n, err)
	}
	if c := in.Completed(); c != 0 {
		t.Fatalf("Completed %d for a graph that never ran", c)
	}
	select {
	case <-g.Done():
	case <-time.After(drainLimit):
		t.Fatal("Done is never closed after a failed Start")
	}
}

// TestContractPhaseChainSeesEarlierWrites: "a phase's return for an entry happens before any
// later phase or level observes that entry": a phase on a phase's stream sees its writes.
func TestContractPhaseChainSeesEarlierWrites(t *testing.T) {
	type entry struct{ V, A, B int }
	g := flow.New()
	in := flow.Input[int](g, flow.Name("in"))
	var bad atomic.Int64
	var got collector[entry]
	in.Then(3, func(v int) entry { return entry{V: v} }, flow.Name("work")).
		Phase(2, func(e *entry) { e.A = e.V * 2 }, flow.Name("a")).
		PhaseErr(3, func(e *entry) error {
			if e.A != e.V*2 {
				bad.Add(1)
			}
			e.B = e.A + 1
			return nil
		}, flow.Name("b")).
		Filter(2, func(e entry) (entry, bool) { return e, e.B == 2*e.V+1 }, flow.Name("check")).
		Sink(1, got.add, flow.Name("out"))
	start(t, g)
	publishAll(t, in, 2000, id)
	mustStop(t, g, nil)
	if bad.Load() != 0 || len(got.items()) != 2000 {
		t.Fatalf("%d entries reached phase b before phase a wrote them; %d of 2000 passed the check", bad.Load(), len(got.items()))
	}
}

// TestContractStopFromASource: Stop and Wait called by a source, as its function's first
// statement or in an OnStop hook ("on the stage's goroutine when it ends"), are calls "from
// inside a stage's function": each must return ErrInsideStage rather than wait for the
// calling stage. Both hung under -race before Start marked the stages launched first.
func TestContractStopFromASource(t *testing.T) {
	calls := map[string]func(*flow.Graph) error{"Stop": (*flow.Graph).Stop, "Wait": (*flow.Graph).Wait}
	for _, where := range []string{"first statement", "OnStop"} {
		for name, call := range calls {
			t.Run(where+"/"+name, func(t *testing.T) {
				g := flow.New()
				results := make(chan error, 1)
				flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
					if where == "OnStop" {
						s.OnStop(func() { results <- call(g) })
						_ = s.Publish(1)
					} else {
						results <- call(g)
					}
					s.Finish()
					return nil
				}, flow.Name("src")).Sink(1, func(int) {}, flow.Name("out"))
				// Not start: its cleanup's Stop would hang as well once this hangs.
				if err := g.Start(context.Background()); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-results:
					if !errors.Is(err, flow.ErrInsideStage) {
						t.Fatalf("%s in a source's %s: %v; want ErrInsideStage", name, where, err)
					}
				case <-time.After(10 * time.Second):
					hung(t, g, name+" in a source's "+where+" did not return", 10*time.Second)
				}
				waitWithin(t, g, drainLimit)
			})
		}
	}
}

// TestContractStopInsideInit: Init runs "on the stage's goroutine, before Start returns";
// Stop and Wait called there must not wait for the stage (nor hang Start): they return
// ErrInsideStage, and the graph, asked to stop, stops.
func TestContractStopInsideInit(t *testing.T) {
	for _, call := range []string{"Stop", "Wait"} {
		t.Run(call, func(t *testing.T) {
			g := flow.New()
			in := flow.Input[int](g, flow.Name("in"))
			results := make(chan error, 1)
			in.StatefulSink(1, flow.StatefulSink[int, int]{
				Init: func(*flow.Stage) (int, error) {
					if call == "Stop" {
						results <- g.Stop()
					} else {
						results <- g.Wait()
					}
					return 0, nil
				},
				Each: func(int, int) error { return nil },
			}, flow.Name("keep"))
			started := make(chan error, 1)
			go func() { started <- g.Start(context.Background()) }()
			select {
			case err := <-results:
				if !errors.Is(err, flow.ErrInsideStage) {
					t.Fatalf("%s inside Init: %v; want ErrInsideStage", call, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s inside Init did not return", call)
			}
			select {
			case err := <-started:
				t.Logf("Start after %s inside Init: %v", call, err)
			case <-time.After(10 * time.Second):
				t.Fatalf("Start did not return after %s inside Init", call)
			}
			if call == "Stop" {
				waitWithin(t, g, drainLimit)
			} else {
				mustStop(t, g, nil)
			}
		})
	}
}

// stuckSink starts a graph of an input ring of capacity slots read by a sink that collects
// what it gets but holds its first entry until gate is closed, so that the ring fills.
func stuckSink(t *testing.T, capacity int) (*flow.Graph, *flow.Publisher[int], chan struct{}, *collector[int]) {
	t.Helper()
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(capacity), flow.Name("in"))
	gate := make(chan struct{})
	got := new(collector[int])
	in.Sink(1, func(v int) {
		<-gate
		got.add(v)
	}, flow.Name("out"))
	start(t, g)
	return g, in, gate, got
}

// publishUntilEnd publishes 0, 1, 2, ... into in until the graph refuses them, waits for the
// graph to end, checks that Wait returns want (errors.Is; nil for a clean end), and returns
// how many entries were accepted.
func publishUntilEnd(t *testing.T, g *flow.Graph, in *flow.Publisher[int], want error) int {
	t.Helper()
	n := publishUntilRefused(t, in, math.MaxInt32)
	waitWithin(t, g, drainLimit)
	if err := g.Wait(); !errors.Is(err, want) {
		t.Fatalf("Wait after the graph refused publishing: %v, want %v", err, want)
	}
	return n
}
