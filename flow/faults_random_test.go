package flow_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

var errInjected = errors.New("injected failure")

// failing decides, from the entry alone, whether user code fails on it, so the test knows
// the failing set without sharing state with the stages. About pct percent fail.
func failing(v, seed uint64, pct uint64) bool {
	h := (v ^ seed) * 0x9E3779B97F4A7C15
	h ^= h >> 31
	return h%100 < pct
}

// faultForm is one kind of user function, built to fail at chosen entries: by panicking
// where the function cannot return an error, else through failNow, which panics on even
// entries and returns an error on odd ones.
type faultForm struct {
	name string
	// perEntry: a failure loses exactly the failing entry (phases: nothing).
	perEntry bool
	// phase: a failure loses nothing; the entry moves on to later phases.
	phase bool
	build func(in *flow.Publisher[uint64], fail func(uint64) bool, opts []flow.Option) *flow.Stream[uint64]
}

func failNow(v uint64) error {
	if v%2 == 0 {
		panic(fmt.Sprintf("injected panic at %d", v))
	}
	return fmt.Errorf("entry %d: %w", v, errInjected)
}

var faultForms = []faultForm{
	{name: "Then", perEntry: true, build: func(in *flow.Publisher[uint64], fail func(uint64) bool, opts []flow.Option) *flow.Stream[uint64] {
		return in.Then(2, func(v uint64) uint64 {
			if fail(v) {
				panic("injected panic")
			}
			return v
		}, opts...)
	}},
	{name: "ThenErr", perEntry: true, build: func(in *flow.Publisher[uint64], fail func(uint64) bool, opts []flow.Option) *flow.Stream[uint64] {
		return in.ThenErr(2, func(v uint64) (uint64, error) {
			if fail(v) {
				return 0, failNow(v)
			}
			return v, nil
		}, opts...)
	}},
	{name: "Filter", perEntry: true, build: func(in *flow.Publisher[uint64], fail func(uint64) bool, opts []flow.Option) *flow.Stream[uint64] {
		return in.Filter(2, func(v uint64) (uint64, bool) {
			if fail(v) {
				panic("injected panic")
			}
			return v, true
		}, opts...)
	}},
	{name: "ExpandErr", perEntry: true, build: func(in *flow.Publisher[uint64], fail func(uint64) bool, opts []flow.Option) *flow.Stream[uint64] {
		return in.KeyBy(func(v uint64) uint64 { return v % 13 }).ExpandErr(3, func(v uint64, e *flow.Emitter[uint64]) error {
			if fail(v) {
				return failNow(v) // fails before emitting: the entry produces nothing
			}
			e.Emit(v)
			return nil
		}, opts...)
	}},
	{name: "ThenBatch", build: func(in *flow.Publisher[uint64], fail func(uint64) bool, opts []flow.Option) *flow.Stream[uint64] {
		return in.ThenBatch(2, func(b *flow.Batch[uint64], e *flow.Emitter[uint64]) error {
			for i := range b.Len() {
				v := *b.At(i)
				if fail(v) {
					return failNow(v) // the batch fails as one unit; what it emitted stays
				}
				e.Emit(v)
			}
			return nil
		}, opts...)
	}},
	{name: "PhaseErr", phase: true, build: func(in *flow.Publisher[uint64], fail func(uint64) bool, opts []flow.Option) *flow.Stream[uint64] {
		return in.Then(2, func(v uint64) uint64 { return v }).PhaseErr(2, func(v *uint64) error {
			if fail(*v) {
				return failNow(*v)
			}
			return nil
		}, opts...)
	}},
}

// TestRandomFaultsUnderEachPolicy injects panics and errors at random entries into every
// kind of user function, under each error policy, through rings small enough that a batch
// left unreleased would stall the publishers at once. It checks that the policy is
// honoured (Skip counts, ErrorSink reports each failure with its level, StopGraph makes the
// first failure the graph's error and drains), that nothing stalls, and that exactly the
// committed entries that did not fail reach the sink.
func TestRandomFaultsUnderEachPolicy(t *testing.T) {
	n := scale(8000, 1000)
	for _, form := range faultForms {
		for _, policy := range []string{"skip", "sink", "stop"} {
			t.Run(form.name+"/"+policy, func(t *testing.T) {
				seed := rand.Uint64()
				t.Logf("seed %#x", seed)
				fail := func(v uint64) bool { return failing(v, seed, 2) }
				var mu sync.Mutex
				var reported []*flow.StageError
				opts := []flow.Option{flow.Name("faulty"), flow.Capacity(4), flow.MaxBatch(3)}
				switch policy {
				case "skip":
					opts = append(opts, flow.OnError(flow.Skip))
				case "sink":
					opts = append(opts, flow.OnError(flow.ErrorSink(func(se *flow.StageError) {
						mu.Lock()
						reported = append(reported, se)
						mu.Unlock()
					})))
				}
				g := flow.New()
				in := flow.Input[uint64](g, flow.Capacity(8))
				delivered := map[uint64]int{} // the sink's goroutine only, read after Wait
				form.build(in, fail, opts).Sink(1, func(v uint64) { delivered[v]++ })
				start(t, g)
				committed := 0
				for i := range n {
					if err := in.Publish(context.Background(), uint64(i)); err != nil {
						if policy == "stop" && errors.Is(err, flow.ErrStopped) {
							break
						}
						t.Fatalf("Publish(%d): %v\n%s", i, err, statsText(g))
					}
					committed++
				}
				err := stopWithin(t, g, drainLimit)
				failed := 0
				for i := range committed {
					if fail(uint64(i)) {
						failed++
					}
				}
				var errCount uint64
				for _, s := range g.Stats() {
					if s.Level == "faulty" {
						errCount += s.Errors
					}
				}
				switch policy {
				case "stop":
					var se *flow.StageError
					if failed > 0 && (!errors.As(err, &se) || se.Level != "faulty") {
						t.Fatalf("StopGraph: Stop returned %v, want the faulty level's *StageError", err)
					}
					if failed == 0 && err != nil {
						t.Fatalf("StopGraph without a failure: %v", err)
					}
				default:
					if err != nil {
						t.Fatalf("%s policy stopped the graph: %v", policy, err)
					}
				}
				if policy == "sink" && uint64(len(reported)) != errCount {
					t.Fatalf("ErrorSink got %d failures, stats count %d", len(reported), errCount)
				}
				for _, se := range reported {
					if se.Level != "faulty" || (se.Panic == nil && !errors.Is(se, errInjected)) ||
						(se.Panic != nil && len(se.Stack) == 0) {
						t.Fatalf("bad failure report: %+v", se)
					}
				}
				for v, c := range delivered {
					if c != 1 || v >= uint64(committed) || (!form.phase && fail(v)) {
						t.Fatalf("entry %d delivered %d times (committed %d, failing %v)", v, c, committed, fail(v))
					}
				}
				switch {
				case form.phase:
					if len(delivered) != committed || errCount != uint64(failed) {
						t.Fatalf("phase failures: %d of %d delivered, %d errors counted for %d failing",
							len(delivered), committed, errCount, failed)
					}
				case form.perEntry:
					if len(delivered) != committed-failed || errCount != uint64(failed) {
						t.Fatalf("%d committed, %d failing: delivered %d, counted %d errors",
							committed, failed, len(delivered), errCount)
					}
				default: // a failing batch loses what followed the failure in it
					if (failed > 0) != (errCount > 0) || errCount > uint64(failed) || len(delivered) > committed-failed {
						t.Fatalf("batch failures: %d committed, %d failing, %d delivered, %d errors",
							committed, failed, len(delivered), errCount)
					}
				}
			})
		}
	}
}
