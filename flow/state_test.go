package flow_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// stageLog records, per stage, the order of the hooks a Stateful level's stage ran.
type stageLog struct {
	mu  sync.Mutex
	ops map[int][]string
}

func (l *stageLog) add(stage int, op string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ops == nil {
		l.ops = map[int][]string{}
	}
	l.ops[stage] = append(l.ops[stage], op)
}

// TestStatefulHooksRunOncePerStage: Init runs once per stage before any entry, the state it
// made is the one Each and End get, End runs once after the last entry, and what End emits
// is delivered.
func TestStatefulHooksRunOncePerStage(t *testing.T) {
	const width = 3
	n := scale(30000, 3000)
	type state struct {
		stage int
		seen  int
	}
	var log stageLog
	g := flow.New()
	in := flow.Input[int](g)
	var partial collector[[2]int]
	in.Stateful(width, flow.Stateful[int, *state, [2]int]{
		Init: func(st *flow.Stage, _ *flow.Emitter[[2]int]) (*state, error) {
			log.add(st.Index(), "init")
			if st.Level() != "count" {
				t.Errorf("Stage.Level = %q, want count", st.Level())
			}
			return &state{stage: st.Index()}, nil
		},
		Each: func(s *state, v int, e *flow.Emitter[[2]int]) error {
			if e.Stage().Index() != s.stage {
				t.Errorf("stage %d was handed the state of stage %d", e.Stage().Index(), s.stage)
			}
			if s.seen == 0 {
				log.add(s.stage, "each")
			}
			s.seen++
			return nil
		},
		End: func(s *state, e *flow.Emitter[[2]int]) error {
			log.add(s.stage, "end")
			e.Emit([2]int{s.stage, s.seen})
			return nil
		},
	}, flow.Name("count")).Sink(1, partial.add)
	start(t, g)
	publishAll(t, in, n, id)
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range partial.items() {
		total += p[1]
	}
	if got := len(partial.items()); got != width || total != n {
		t.Fatalf("End emitted %d partial counts summing to %d; want %d summing to %d", got, total, width, n)
	}
	for i := range width {
		if got := log.ops[i]; !slices.Equal(got, []string{"init", "each", "end"}) {
			t.Errorf("stage %d ran %v; want [init each end]", i, got)
		}
	}
}

// TestStatefulSinkBatchAndEnd: a stateful sink with a batch function sees every entry once
// and ends every stage, even one that received nothing.
func TestStatefulSinkBatchAndEnd(t *testing.T) {
	n := scale(20000, 2000)
	var sum, ends atomic.Int64
	g := flow.New()
	in := flow.Input[int](g)
	in.KeyBy(func(v int) uint64 { return 0 }). // every entry to one stage; the others get none
							StatefulSink(3, flow.StatefulSink[int, *int]{
			Init: func(*flow.Stage) (*int, error) { return new(int), nil },
			Batch: func(s *int, b *flow.Batch[int]) error {
				for _, v := range b.All() {
					*s += *v
				}
				return nil
			},
			End: func(s *int) error {
				sum.Add(int64(*s))
				ends.Add(1)
				return nil
			},
		})
	start(t, g)
	publishAll(t, in, n, id)
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if want := int64(n) * int64(n-1) / 2; sum.Load() != want || ends.Load() != 3 {
		t.Fatalf("sum %d over %d ends; want %d over 3", sum.Load(), ends.Load(), want)
	}
}

// TestStatefulInitFailureFailsStart: an Init that returns an error, panics or calls
// runtime.Goexit fails Start with a StageError naming the level and stage (with the panic's
// value and stack for a panic), and the graph is released.
func TestStatefulInitFailureFailsStart(t *testing.T) {
	boom := errors.New("no state today")
	for name, init := range map[string]func(*flow.Stage) (int, error){
		"error":  func(st *flow.Stage) (int, error) { return 0, boom },
		"panic":  func(st *flow.Stage) (int, error) { panic(boom) },
		"goexit": func(st *flow.Stage) (int, error) { runtime.Goexit(); return 0, nil },
	} {
		t.Run(name, func(t *testing.T) {
			g := flow.New()
			in := flow.Input[int](g)
			in.StatefulSink(2, flow.StatefulSink[int, int]{
				Init: func(st *flow.Stage) (int, error) {
					if st.Index() == 1 {
						return init(st)
					}
					return 0, nil
				},
				Each: func(int, int) error { return nil },
			}, flow.Name("keeper"))
			err := g.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), `level "keeper" stage 1: init`) {
				t.Fatalf("Start returned %v; want the init failure of keeper stage 1", err)
			}
			want := boom
			if name == "goexit" {
				want = flow.ErrGoexit
			}
			if !errors.Is(err, want) {
				t.Fatalf("Start's error %v does not wrap %v", err, want)
			}
			var se *flow.StageError
			if !errors.As(err, &se) || se.Level != "keeper" || se.Stage != 1 || se.Seq != -1 {
				t.Fatalf("Start's error %#v is not a StageError of keeper stage 1 at sequence -1", err)
			}
			if panicked := name == "panic"; (se.Panic != nil) != panicked || (len(se.Stack) > 0) != panicked {
				t.Fatalf("StageError of an init %s has Panic %v and a stack of %d bytes", name, se.Panic, len(se.Stack))
			}
			if !errors.Is(g.Wait(), want) {
				t.Fatalf("Wait returned %v", g.Wait())
			}
			if err := in.Publish(context.Background(), 1); !errors.Is(err, flow.ErrStopped) {
				t.Fatalf("Publish after a failed Start: %v; want ErrStopped", err)
			}
		})
	}
}

// TestStatefulEndFailureFollowsPolicy: an error from End is the stage's failure: Stop
// reports it under StopGraph, and Skip counts it.
func TestStatefulEndFailureFollowsPolicy(t *testing.T) {
	boom := errors.New("cannot flush")
	build := func(opts ...flow.Option) (*flow.Graph, *flow.Publisher[int]) {
		g := flow.New()
		in := flow.Input[int](g)
		in.StatefulSink(1, flow.StatefulSink[int, int]{
			Each: func(int, int) error { return nil },
			End:  func(int) error { return boom },
		}, append(opts, flow.Name("flush"))...)
		return g, in
	}
	g, in := build()
	start(t, g)
	publishAll(t, in, 10, id)
	if err := g.Stop(); !errors.Is(err, boom) {
		t.Fatalf("Stop returned %v; want the End failure", err)
	}
	g, in = build(flow.OnError(flow.Skip))
	start(t, g)
	publishAll(t, in, 10, id)
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop under Skip returned %v", err)
	}
	if st := g.Stats(); len(st) != 1 || st[0].Errors != 1 || st[0].In != 10 {
		t.Fatalf("stats %+v; want 10 in and 1 error", st)
	}
}

// TestStatefulNeedsOneFunction: neither or both of Each and Batch is a build error.
func TestStatefulNeedsOneFunction(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.Stateful(1, flow.Stateful[int, int, int]{}).Sink(1, func(int) {})
	in.StatefulSink(1, flow.StatefulSink[int, int]{
		Each:  func(int, int) error { return nil },
		Batch: func(int, *flow.Batch[int]) error { return nil },
	})
	err := g.Start(context.Background())
	if err == nil || strings.Count(err.Error(), "exactly one of Each and Batch") != 2 {
		t.Fatalf("Start returned %v; want both levels refused", err)
	}
}

// TestStatefulInitEmitsAtOnce: what Init emits is delivered when Init returns, before any
// input arrives (it used to wait for the stage's first batch), and ahead of what the stage
// emits later.
func TestStatefulInitEmitsAtOnce(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var got collector[int]
	in.Stateful(2, flow.Stateful[int, struct{}, int]{
		Init: func(st *flow.Stage, e *flow.Emitter[int]) (struct{}, error) {
			e.Emit(-1 - st.Index())
			return struct{}{}, nil
		},
		Each: func(_ struct{}, v int, e *flow.Emitter[int]) error { e.Emit(v); return nil },
	}, flow.Name("header")).KeyBy(func(v int) uint64 { return 0 }).Sink(1, got.add)
	start(t, g)
	for deadline := time.Now().Add(drainLimit); len(got.items()) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Init's entries were not delivered before any input: %v", got.items())
		}
	}
	publishAll(t, in, 10, id)
	mustStop(t, g, nil)
	items := got.items()
	if len(items) != 12 || countNegative(items[:2]) != 2 || countNegative(items) != 2 {
		t.Fatalf("delivered %v; want the two headers first, then 10 entries", items)
	}
}
