package flow_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// Panics, errors and runtime.Goexit in user code, under each error policy.

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
	publishAll(t, in, n, id)
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
	accepted := int64(publishUntilRefused(t, in, 1000))
	err := g.Wait()
	var se *flow.StageError
	if !errors.As(err, &se) {
		t.Fatalf("Wait: %v, want a *StageError", err)
	}
	if se.Level != "fragile" || se.Stage != 0 || se.Seq != 50 || se.Panic != "bad entry" ||
		!strings.Contains(string(se.Stack), "faults_test.go") {
		t.Fatalf("panic report: level %q stage %d seq %d panic %v stack has test file: %v",
			se.Level, se.Stage, se.Seq, se.Panic, strings.Contains(string(se.Stack), "faults_test.go"))
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
	publishAll(t, in, 200, id) // would hang if the batch stayed held
	mustStop(t, g, nil)
	if out.Load() < 190 || out.Load() > 199 {
		t.Fatalf("delivered %d of 200 with one panicking batch", out.Load())
	}
}

// TestPanickingKeyFunctionFailsOneEntry: a key function that panicked was blamed on the
// last entry the stage had taken, and the stage re-ran the range, reporting many failures.
// Each port writes its keyed loop out, so each is run. At the levels that take whole batches
// (SinkBatch, ThenBatch, a stateful level's Batch) a panic while the stage gathered its share
// lost every other entry of the range; a phase in front holds entry 0 until all 20 are
// published, so that the failing key's range holds others, and the key fails in the middle
// of the range and at its end.
func TestPanickingKeyFunctionFailsOneEntry(t *testing.T) {
	kinds := []struct {
		name  string
		level func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option)
	}{
		{"then", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.Then(2, id, opts...).Sink(1, func(int) { got.Add(1) })
		}},
		{"filter", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.Filter(2, func(v int) (int, bool) { return v, true }, opts...).Sink(1, func(int) { got.Add(1) })
		}},
		{"expand", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.Expand(2, func(v int, e *flow.Emitter[int]) { e.Emit(v) }, opts...).Sink(1, func(int) { got.Add(1) })
		}},
		{"sink", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.Sink(2, func(int) { got.Add(1) }, opts...)
		}},
		{"sinkerr", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.SinkErr(2, func(int) error { got.Add(1); return nil }, opts...)
		}},
		{"stateful sink", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.StatefulSink(2, flow.StatefulSink[int, *atomic.Int64]{
				Init: func(*flow.Stage) (*atomic.Int64, error) { return got, nil },
				Each: func(got *atomic.Int64, _ int) error { got.Add(1); return nil },
			}, opts...)
		}},
		{"sink batch", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.SinkBatch(2, func(b *flow.Batch[int]) error { got.Add(int64(b.Len())); return nil }, opts...)
		}},
		{"then batch", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.ThenBatch(2, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
				for _, v := range b.All() {
					e.Emit(*v)
				}
				return nil
			}, opts...).Sink(1, func(int) { got.Add(1) })
		}},
		{"stateful sink batch", func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option) {
			s.StatefulSink(2, flow.StatefulSink[int, *atomic.Int64]{
				Init:  func(*flow.Stage) (*atomic.Int64, error) { return got, nil },
				Batch: func(got *atomic.Int64, b *flow.Batch[int]) error { got.Add(int64(b.Len())); return nil },
			}, opts...)
		}},
	}
	for _, k := range kinds {
		for _, bad := range []int{7, 19} {
			t.Run(fmt.Sprintf("%s/key %d", k.name, bad), func(t *testing.T) { keyPanicFailsOne(t, k.level, bad, false) })
		}
		t.Run(k.name+"/Goexit", func(t *testing.T) { keyPanicFailsOne(t, k.level, 7, true) })
	}
}

// TestBatchErrorAfterAKeyPanic: once a key function had failed while a batch level gathered
// its share, an error from the batch function was reported at the entry after the failing
// one (or past the batch's end), not at the batch's first entry.
func TestBatchErrorAfterAKeyPanic(t *testing.T) {
	for _, bad := range []int{7, 19} {
		t.Run(fmt.Sprint("key ", bad), func(t *testing.T) {
			g := flow.New()
			in := flow.Input[int](g)
			keyed, release := gatedBadKey(in, bad, false)
			var mu sync.Mutex
			var keyFails, batchFails []int64
			keyed.SinkBatch(2, func(*flow.Batch[int]) error { return errOdd }, flow.OnError(flow.ErrorSink(func(se *flow.StageError) {
				mu.Lock()
				defer mu.Unlock()
				if se.Panic != nil {
					keyFails = append(keyFails, se.Seq)
				} else {
					batchFails = append(batchFails, se.Seq)
				}
			})))
			start(t, g)
			publishAtOnce(t, in, 20)
			close(release)
			mustStop(t, g, nil)
			if len(keyFails) != 2 || keyFails[0] != int64(bad) || keyFails[1] != int64(bad) {
				t.Fatalf("key failures at %v, want [%d %d]", keyFails, bad, bad)
			}
			// The phase passes entry 0 alone or with the rest, so batches start at 0 or 1.
			if len(batchFails) == 0 {
				t.Fatal("no batch failure reported")
			}
			for _, seq := range batchFails {
				if seq != 0 && seq != 1 {
					t.Fatalf("batch failures at %v, want each at its batch's first sequence (0 or 1)", batchFails)
				}
			}
		})
	}
}

// gatedBadKey puts a phase after in that holds entry 0 until release is closed, so that
// entries published in one commit (publishAtOnce) reach the next level in one or two
// ranges (entry 0 alone or with the rest), and keys the phase's stream by a function that
// panics on bad (or calls runtime.Goexit, if exit).
func gatedBadKey(in *flow.Publisher[int], bad int, exit bool) (keyed *flow.Stream[int], release chan struct{}) {
	release = make(chan struct{})
	gated := in.Phase(1, func(v *int) {
		if *v == 0 {
			<-release
		}
	})
	return gated.KeyBy(func(v int) uint64 {
		if v == bad && exit {
			runtime.Goexit()
		}
		if v == bad {
			panic("bad key")
		}
		return uint64(v)
	}), release
}

// publishAtOnce publishes 0..n-1 with one commit, so that a stage that wakes to them sees
// them all: one at a time, a gated phase could take a first range of any length (it failed
// TestBatchErrorAfterAKeyPanic once, with ranges from 0 and from 16).
func publishAtOnce(t *testing.T, in *flow.Publisher[int], n int) {
	t.Helper()
	vs := make([]int, n)
	for i := range vs {
		vs[i] = i
	}
	if got, err := in.PublishBatch(t.Context(), vs); got != n || err != nil {
		t.Fatalf("PublishBatch of %d: %d, %v", n, got, err)
	}
}

// keyPanicFailsOne runs 0..19 through a phase and then level, keyed by a function that
// panics on bad (or calls runtime.Goexit, if exit), and checks that bad alone failed.
func keyPanicFailsOne(t *testing.T, level func(s *flow.Stream[int], got *atomic.Int64, opts ...flow.Option), bad int, exit bool) {
	g := flow.New()
	in := flow.Input[int](g)
	keyed, release := gatedBadKey(in, bad, exit)
	var mu sync.Mutex
	var seqs []int64
	var got atomic.Int64
	level(keyed, &got, flow.Name("keyed"), flow.OnError(flow.ErrorSink(func(se *flow.StageError) {
		mu.Lock()
		seqs = append(seqs, se.Seq)
		mu.Unlock()
	})))
	start(t, g)
	publishAtOnce(t, in, 20)
	close(release)
	mustStop(t, g, nil)
	// Both stages evaluate the key of every entry, so each reports the bad one once.
	if want := int64(bad); len(seqs) != 2 || seqs[0] != want || seqs[1] != want {
		t.Fatalf("failures reported at sequences %v, want [%d %d]", seqs, bad, bad)
	}
	if got.Load() != 19 {
		t.Fatalf("delivered %d, want the 19 entries whose key did not panic", got.Load())
	}
}

// TestSourceErrorAndPanic: a source function that returns an error or panics after
// emitting stops the graph with that failure (StopGraph, the default policy), and what it
// emitted before is delivered.
func TestSourceErrorAndPanic(t *testing.T) {
	boom := errors.New("source failed")
	for _, panics := range []bool{false, true} {
		t.Run(fmt.Sprint("panics=", panics), func(t *testing.T) {
			g := flow.New()
			src := flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
				for i := range 10 {
					if err := s.Emit(i); err != nil {
						return err
					}
				}
				if panics {
					panic("source broke")
				}
				return boom
			}, flow.Name("src"))
			var got atomic.Int64
			src.Sink(1, func(int) { got.Add(1) })
			start(t, g)
			waitWithin(t, g, drainLimit)
			err := g.Wait()
			var se *flow.StageError
			switch {
			case panics && (!errors.As(err, &se) || se.Level != "src" || se.Panic != "source broke"):
				t.Fatalf("Wait: %v, want the source's panic as a StageError of level src", err)
			case !panics && !errors.Is(err, boom):
				t.Fatalf("Wait: %v, want the source's error", err)
			}
			if got.Load() != 10 {
				t.Fatalf("entries emitted before the failure: delivered %d, want 10", got.Load())
			}
		})
	}
}

// TestGoexitInAStageIsReported: runtime.Goexit in a stage's function (what t.FailNow does in
// a callback) ends that goroutine without a return or a panic. The failure is reported like
// a panic under the level's policy, and every other committed entry is still processed: a
// new goroutine carries on the stage.
func TestGoexitInAStageIsReported(t *testing.T) {
	const n, bad = 64, 5
	for _, mode := range []flow.Mode{flow.Dedicated, flow.Shared} {
		for _, policy := range []flow.ErrorPolicy{flow.Skip, flow.StopGraph} {
			t.Run(fmt.Sprint(mode, "/", policy), func(t *testing.T) {
				g := flow.New(flow.GraphMode(mode))
				in := flow.Input[int](g)
				var got atomic.Int64
				in.Then(1, func(v int) int {
					if v == bad {
						runtime.Goexit()
					}
					return v
				}, flow.OnError(policy), flow.Name("exits")).
					Sink(1, func(int) { got.Add(1) })
				start(t, g)
				committed := publishUntilRefused(t, in, n)
				err := stopWithin(t, g, drainLimit)
				var se *flow.StageError
				switch policy {
				case flow.Skip:
					if err != nil {
						t.Fatalf("Stop: %v", err)
					}
				case flow.StopGraph:
					if !errors.As(err, &se) || !errors.Is(err, flow.ErrGoexit) || se.Level != "exits" || se.Seq != bad {
						t.Fatalf("Stop: %v, want a StageError of level exits at sequence %d wrapping ErrGoexit", err, bad)
					}
				}
				if committed <= bad || got.Load() != int64(committed-1) {
					t.Fatalf("%d of the %d other committed entries delivered", got.Load(), committed-1)
				}
				if errs := perLevel(g)["exits"].Errors; errs != 1 {
					t.Fatalf("level exits counts %d errors, want 1", errs)
				}
			})
		}
	}
}

func TestGoexitInASourceIsReported(t *testing.T) {
	g := flow.New()
	var got atomic.Int64
	flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
		for i := range 10 {
			if err := s.Emit(i); err != nil {
				return err
			}
		}
		s.Finish()
		runtime.Goexit()
		return nil
	}, flow.OnError(flow.Skip), flow.Name("src")).Sink(1, func(int) { got.Add(1) })
	start(t, g)
	mustEnd(t, g)
	if got.Load() != 10 || perLevel(g)["src"].Errors != 1 {
		t.Fatalf("delivered %d of 10, %d errors; want 10 and 1", got.Load(), perLevel(g)["src"].Errors)
	}
}
