//go:build unix

package flow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/poller"
)

// pipeState is what a stage of TestProcessingStageServesItsLoop keeps: the read end of its
// pipe and what its callbacks and ticks saw.
type pipeState struct {
	fd    int
	loop  *poller.Loop
	ticks *poller.Timer
}

// TestProcessingStageServesItsLoop: a dedicated processing stage registers a pipe and a
// timer on its own loop in Init; the pipe's callback publishes what it reads into the
// stage's ring while the stage goes on processing its input, and End unregisters both.
// Every byte written and every input entry arrive.
func TestProcessingStageServesItsLoop(t *testing.T) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	if err := unix.SetNonblock(p[0], true); err != nil {
		t.Fatal(err)
	}
	ticked := make(chan struct{}, 1)
	g := flow.New()
	in := flow.Input[int](g)
	var got collector[int]
	in.Stateful(1, flow.Stateful[int, *pipeState, int]{
		Init: func(st *flow.Stage, e *flow.Emitter[int]) (*pipeState, error) {
			l := st.Loop()
			if l == nil || st.Mode() != flow.Dedicated {
				return nil, errors.New("a dedicated stage has no loop")
			}
			s := &pipeState{fd: p[0], loop: l}
			s.ticks = l.Every(time.Millisecond, func() {
				select {
				case ticked <- struct{}{}:
				default:
				}
			})
			return s, l.Add(p[0], poller.Readable, func(fd int, _ poller.Events) {
				var buf [64]byte
				n, _ := unix.Read(fd, buf[:])
				for _, b := range buf[:max(n, 0)] {
					e.Emit(-1 - int(b)) // negative: apart from the inputs
				}
			})
		},
		Each: func(_ *pipeState, v int, e *flow.Emitter[int]) error { e.Emit(v); return nil },
		End: func(s *pipeState, _ *flow.Emitter[int]) error {
			s.ticks.Stop()
			return errors.Join(s.loop.Remove(s.fd), unix.Close(s.fd))
		},
	}, flow.StageMode(flow.Dedicated)).Sink(1, got.add)
	start(t, g)
	n := scale(5000, 500)
	for i := range n {
		if err := in.Publish(context.Background(), i); err != nil {
			t.Fatal(err)
		}
		if i%(n/9) == 0 && i/(n/9) < 9 {
			if _, err := unix.Write(p[1], []byte{byte(i / (n / 9))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case <-ticked:
	case <-time.After(drainLimit):
		t.Fatal("the stage's timer never fired")
	}
	// Once every input has arrived the stage is idle, asleep in its loop: a byte written now
	// must still reach the sink, committed and its reader woken by the round of callbacks.
	waitFor(t, func() bool { return len(got.items()) >= n })
	if _, err := unix.Write(p[1], []byte{9}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return countNegative(got.items()) == 10 })
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	all := got.items()
	slices.Sort(all)
	want := append([]int{-10, -9, -8, -7, -6, -5, -4, -3, -2, -1}, seq(n)...)
	if !slices.Equal(all, want) {
		t.Fatalf("delivered %d entries (%d from the pipe); want %d inputs and 10 bytes", len(all), countNegative(all), n)
	}
}

// waitFor polls cond until it holds, failing the test after drainLimit.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(drainLimit); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the condition did not hold within the drain limit")
		}
	}
}

func countNegative(vs []int) int {
	n := 0
	for _, v := range vs {
		if v < 0 {
			n++
		}
	}
	return n
}

// TestLoopCallbackPanicIsAStageFailure: a panic in a callback of a processing stage's loop
// is reported like a panic in its function.
func TestLoopCallbackPanicIsAStageFailure(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	in.StatefulSink(1, flow.StatefulSink[int, int]{
		Init: func(st *flow.Stage) (int, error) {
			st.Loop().AfterFunc(0, func() { panic("callback failed") })
			return 0, nil
		},
		Each: func(int, int) error { return nil },
	}, flow.StageMode(flow.Dedicated), flow.Name("timed"))
	start(t, g)
	select {
	case <-g.Done():
	case <-time.After(drainLimit):
		t.Fatal("a panicking callback did not stop the graph")
	}
	var se *flow.StageError
	if err := g.Wait(); !errors.As(err, &se) || se.Level != "timed" || !strings.Contains(err.Error(), "callback failed") {
		t.Fatalf("Wait returned %v; want the callback's panic as a StageError of level timed", err)
	}
}

// TestStageHandle: every level kind reaches the same handle; a shared stage has no loop;
// RequestStop from inside a stage stops the graph.
func TestStageHandle(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	seen := make(chan string, 64)
	in.Expand(2, func(v int, e *flow.Emitter[int]) {
		st := e.Stage()
		if st.Loop() != nil {
			seen <- "a shared stage has a loop"
		}
		if st.Mode() != flow.Shared || st.Level() != "expand" || st.Index() != v%2 {
			seen <- "expand stage reports the wrong mode, level or index"
		}
		e.Emit(v)
	}, flow.StageMode(flow.Shared), flow.Name("expand")).
		SinkBatch(1, func(b *flow.Batch[int]) error {
			for _, v := range b.All() {
				if *v == 7 {
					b.Stage().RequestStop()
					if !b.Stage().Stopping() {
						seen <- "Stopping is false after RequestStop"
					}
				}
			}
			return nil
		})
	start(t, g)
	for i := range 8 {
		if err := in.Publish(context.Background(), i); err != nil {
			break // the sink may have stopped the graph already
		}
	}
	select {
	case <-g.Done():
	case <-time.After(drainLimit):
		t.Fatal("RequestStop from a stage did not stop the graph")
	}
	close(seen)
	for s := range seen {
		t.Error(s)
	}
}
