//go:build unix

package flow_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/poller"
)

// Every public method of Graph, Publisher, Stage, SourceStage, Emitter and Batch, called from
// inside every kind of user callback, in both modes: each call answers (a value or a
// documented error) at once, nothing hangs or panics, nothing committed is lost, and Start
// and Stop still return. A hang is caught by a watchdog of a few seconds, which names the
// calls still in progress.

// cbLimit bounds every wait of these tests: a hang detector, not a speed bound.
const cbLimit = 5 * time.Second

// cbModes are the graph modes every probe runs in.
var cbModes = []flow.Mode{flow.Dedicated, flow.Shared}

// The places user code runs, as the rig below calls its hook.
const (
	locInit         = "stateful-init"
	locEach         = "stateful-each"
	locEnd          = "stateful-end"
	locThen         = "then"
	locExpand       = "expand"
	locPhase        = "phase"
	locErrorSink    = "error-sink"
	locBatch        = "then-batch"
	locSinkInit     = "sink-init"
	locSinkBatch    = "sink-batch"
	locSinkEnd      = "sink-end"
	locSink         = "sink"
	locSourceFirst  = "source-first"
	locSourceMid    = "source-mid"
	locSourceFinish = "source-after-finish"
	locOnStop       = "source-onstop"
	locSourceTimer  = "source-timer"
	locTimer        = "loop-timer"
	locFD           = "loop-fd"
)

var cbLocations = []string{locInit, locEach, locEnd, locThen, locExpand, locPhase, locErrorSink,
	locBatch, locSinkInit, locSinkBatch, locSinkEnd, locSink, locSourceFirst, locSourceMid,
	locSourceFinish, locOnStop, locSourceTimer, locTimer, locFD}

// cbAfterStop are the locations that run only once the graph drains.
var cbAfterStop = map[string]bool{locEnd: true, locSinkEnd: true, locOnStop: true}

var errCallbackBoom = errors.New("boom")

// cbRig is a graph with a hook at every place user code runs. The main path counts what
// reaches its two sinks; the source, the timed level and the side inputs count their own.
type cbRig struct {
	g    *flow.Graph
	in   *flow.Publisher[int]
	side *flow.Publisher[int] // a roomy input the hooks publish into
	full *flow.Publisher[int] // a tiny input whose sink holds its batch until gate closes
	gate chan struct{}

	hook func(loc string, st *flow.Stage, src *flow.SourceStage[int])

	mainGot, plainGot, timedGot, srcGot, sideGot, fullGot atomic.Int64
	sunk                                                  atomic.Int64 // failures the error sink got
	emitted                                               atomic.Int64 // entries the source's Emit accepted
	sideAccepted, fullAccepted                            atomic.Int64

	fired   map[string]chan struct{}
	onces   map[string]*sync.Once
	calls   map[string]*atomic.Int64
	pipeW   int
	current sync.Map // loc -> what the hook is calling there now (for a hang report)
}

type timedState struct {
	loop  *poller.Loop
	fd    int
	ticks *poller.Timer
}

// newCBRig builds the rig in mode m; withSide adds the side inputs.
func newCBRig(t *testing.T, m flow.Mode, withSide bool, hook func(r *cbRig, loc string, st *flow.Stage, src *flow.SourceStage[int])) *cbRig {
	t.Helper()
	r := &cbRig{gate: make(chan struct{}), fired: map[string]chan struct{}{}, onces: map[string]*sync.Once{}, calls: map[string]*atomic.Int64{}}
	for _, l := range cbLocations {
		r.fired[l] = make(chan struct{})
		r.onces[l] = new(sync.Once)
		r.calls[l] = new(atomic.Int64)
	}
	r.hook = func(loc string, st *flow.Stage, src *flow.SourceStage[int]) {
		r.calls[loc].Add(1)
		hook(r, loc, st, src)
		r.onces[loc].Do(func() { close(r.fired[loc]) })
	}
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(p[0], true); err != nil {
		t.Fatal(err)
	}
	r.pipeW = p[1]
	t.Cleanup(func() { _ = unix.Close(p[1]) })

	g := flow.New(flow.GraphMode(m))
	r.g = g
	r.in = flow.Input[int](g, flow.Capacity(64), flow.Name("in"))

	s1 := r.in.Stateful(2, flow.Stateful[int, *int, int]{
		Init: func(st *flow.Stage, _ *flow.Emitter[int]) (*int, error) {
			r.hook(locInit, st, nil)
			return new(int), nil
		},
		Each: func(_ *int, v int, e *flow.Emitter[int]) error {
			r.hook(locEach, e.Stage(), nil)
			e.Emit(v)
			return nil
		},
		End: func(_ *int, e *flow.Emitter[int]) error {
			r.hook(locEnd, e.Stage(), nil)
			return nil
		},
	}, flow.Name("stateful"))
	s2 := s1.Then(2, func(v int) int { r.hook(locThen, nil, nil); return v }, flow.Name("then"))
	s3 := s2.Expand(1, func(v int, e *flow.Emitter[int]) { r.hook(locExpand, e.Stage(), nil); e.Emit(v) }, flow.Name("expand"))
	s4 := s3.Phase(1, func(*int) { r.hook(locPhase, nil, nil) }, flow.Name("phase"))
	s5 := s4.ThenErr(1, func(v int) (int, error) {
		if v%7 == 3 {
			return 0, errCallbackBoom
		}
		return v, nil
	}, flow.OnError(flow.ErrorSink(func(*flow.StageError) {
		r.sunk.Add(1)
		r.hook(locErrorSink, nil, nil)
	})), flow.Name("fails"))
	s6 := s5.ThenBatch(1, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
		r.hook(locBatch, b.Stage(), nil)
		for _, v := range b.All() {
			e.Emit(*v)
		}
		return nil
	}, flow.Name("batch"))
	s6.StatefulSink(1, flow.StatefulSink[int, *int]{
		Init: func(st *flow.Stage) (*int, error) { r.hook(locSinkInit, st, nil); return new(int), nil },
		Batch: func(_ *int, b *flow.Batch[int]) error {
			r.hook(locSinkBatch, b.Stage(), nil)
			r.mainGot.Add(int64(b.Len()))
			return nil
		},
		End: func(*int) error { r.hook(locSinkEnd, nil, nil); return nil },
	}, flow.Name("stateful-sink"))
	s6.Sink(1, func(int) { r.hook(locSink, nil, nil); r.plainGot.Add(1) }, flow.Name("sink"))

	flow.Source(g, 1, func(ss *flow.SourceStage[int]) error {
		r.hook(locSourceFirst, ss.Stage, ss)
		ss.OnStop(func() { r.hook(locOnStop, ss.Stage, ss) })
		for i := range 100 {
			if ss.Emit(i) == nil {
				r.emitted.Add(1)
			}
			if i == 50 {
				ss.Flush()
				r.hook(locSourceMid, ss.Stage, ss)
			}
		}
		ss.Flush()
		// A timer keeps the stage serving its loop for a while, then finishes it.
		ticks := 0
		var tm *poller.Timer
		tm = ss.Loop().Every(time.Millisecond, func() {
			r.hook(locSourceTimer, ss.Stage, ss)
			if ss.Emit(1000) == nil {
				r.emitted.Add(1)
			}
			if ticks++; ticks == 5 {
				tm.Stop()
				ss.Finish()
				r.hook(locSourceFinish, ss.Stage, ss)
			}
		})
		return nil
	}, flow.Name("source")).Sink(1, func(int) { r.srcGot.Add(1) }, flow.Name("source-sink"))

	r.in.Stateful(1, flow.Stateful[int, *timedState, int]{
		Init: func(st *flow.Stage, _ *flow.Emitter[int]) (*timedState, error) {
			l := st.Loop()
			if l == nil {
				return nil, errors.New("a dedicated stage has no loop")
			}
			s := &timedState{loop: l, fd: p[0]}
			s.ticks = l.Every(time.Millisecond, func() { r.hook(locTimer, st, nil) })
			err := l.Add(p[0], poller.Readable, func(fd int, _ poller.Events) {
				var buf [16]byte
				_, _ = unix.Read(fd, buf[:])
				r.hook(locFD, st, nil)
			})
			return s, err
		},
		Each: func(_ *timedState, v int, e *flow.Emitter[int]) error { e.Emit(v); return nil },
		End: func(s *timedState, _ *flow.Emitter[int]) error {
			s.ticks.Stop()
			return errors.Join(s.loop.Remove(s.fd), unix.Close(s.fd))
		},
	}, flow.StageMode(flow.Dedicated), flow.Name("timed")).Sink(1, func(int) { r.timedGot.Add(1) }, flow.Name("timed-sink"))

	if withSide {
		r.side = flow.Input[int](g, flow.Capacity(1024), flow.Name("side"))
		r.side.Sink(1, func(int) { r.sideGot.Add(1) }, flow.Name("side-sink"))
		r.full = flow.Input[int](g, flow.Capacity(2), flow.Name("full"))
		r.full.SinkBatch(1, func(b *flow.Batch[int]) error {
			<-r.gate
			r.fullGot.Add(int64(b.Len()))
			return nil
		}, flow.Name("full-sink"))
	}
	return r
}

// start starts the rig's graph under the watchdog.
func (r *cbRig) start(t *testing.T) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- r.g.Start(context.Background()) }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
	case <-time.After(cbLimit):
		t.Fatalf("Start did not return within %v; hooks in progress: %s", cbLimit, r.inProgress())
	}
	t.Cleanup(func() {
		r.openGate()
		_ = r.g.Stop()
	})
}

func (r *cbRig) openGate() {
	select {
	case <-r.gate:
	default:
		close(r.gate)
	}
}

func (r *cbRig) mark(loc, what string) { r.current.Store(loc, what) }

func (r *cbRig) inProgress() string {
	var s []string
	r.current.Range(func(k, v any) bool {
		if v.(string) != "" {
			s = append(s, fmt.Sprintf("%s: %s", k, v))
		}
		return true
	})
	sort.Strings(s)
	return "[" + strings.Join(s, "; ") + "]"
}

// waitFired waits until the hook at loc has run once.
func (r *cbRig) waitFired(t *testing.T, loc string) {
	t.Helper()
	select {
	case <-r.fired[loc]:
	case <-time.After(cbLimit):
		t.Fatalf("the hook at %s did not run within %v; in progress: %s\n%s", loc, cbLimit, r.inProgress(), statsText(r.g))
	}
}

// publish publishes n entries from outside until the graph refuses one and returns how
// many were committed.
func (r *cbRig) publish(t *testing.T, n int) int {
	t.Helper()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), cbLimit)
		err := r.in.Publish(ctx, i)
		cancel()
		if err != nil {
			if !errors.Is(err, flow.ErrStopped) {
				t.Fatalf("Publish(%d): %v; in progress: %s", i, err, r.inProgress())
			}
			return i
		}
	}
	return n
}

// stopFromOutside stops the graph under the watchdog and returns Stop's error.
func (r *cbRig) stopFromOutside(t *testing.T) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- r.g.Stop() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(cbLimit):
		t.Fatalf("Stop did not return within %v; hooks in progress: %s\n%s", cbLimit, r.inProgress(), statsText(r.g))
		return nil
	}
}

// checkDelivery checks that nothing committed was lost anywhere in the rig.
func (r *cbRig) checkDelivery(t *testing.T, committed int) {
	t.Helper()
	if got, sunk := r.mainGot.Load(), r.sunk.Load(); got+sunk != int64(committed) {
		t.Errorf("stateful sink got %d + %d failed, want %d committed", got, sunk, committed)
	}
	if got, sunk := r.plainGot.Load(), r.sunk.Load(); got+sunk != int64(committed) {
		t.Errorf("sink got %d + %d failed, want %d committed", got, sunk, committed)
	}
	if got := r.timedGot.Load(); got != int64(committed) {
		t.Errorf("timed level delivered %d, want %d committed", got, committed)
	}
	if got, want := r.srcGot.Load(), r.emitted.Load(); got != want {
		t.Errorf("source sink got %d, want the %d Emit accepted", got, want)
	}
	if r.side != nil {
		if got, want := r.sideGot.Load(), r.sideAccepted.Load(); got != want {
			t.Errorf("side input delivered %d, want the %d the hooks published", got, want)
		}
		if got, want := r.fullGot.Load(), r.fullAccepted.Load(); got != want {
			t.Errorf("full input delivered %d, want the %d accepted", got, want)
		}
	}
}

// cbErrs collects what the hooks found wrong; they run on stage goroutines.
type cbErrs struct {
	mu   sync.Mutex
	errs []string
}

func (c *cbErrs) add(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) < 40 {
		c.errs = append(c.errs, fmt.Sprintf(format, args...))
	}
}

func (c *cbErrs) report(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.errs {
		t.Error(e)
	}
}

// TestCallbackEveryMethodFromEveryCallback calls every method that does not stop the graph
// from every place user code runs (the first few calls at each), then stops the graph from
// outside: every call answers as documented, every hook ran, and every entry committed
// anywhere (the main path, the source, the hooks' own publishes into the graph's inputs)
// is delivered.
func TestCallbackEveryMethodFromEveryCallback(t *testing.T) {
	for _, m := range cbModes {
		t.Run(m.String(), func(t *testing.T) {
			var errs cbErrs
			var stopRequested, fullFilled atomic.Bool
			probe := func(r *cbRig, loc string, st *flow.Stage, src *flow.SourceStage[int]) {
				if r.calls[loc].Load() > 3 {
					return
				}
				defer r.mark(loc, "")
				g := r.g
				stopping := func() bool { return stopRequested.Load() || (st != nil && st.Stopping()) }
				r.mark(loc, "Stats")
				if len(g.Stats()) == 0 {
					errs.add("%s: Stats is empty", loc)
				}
				r.mark(loc, "String/DOT")
				if g.String() == "" || g.DOT() == "" {
					errs.add("%s: String or DOT is empty", loc)
				}
				r.mark(loc, "Start")
				if err := g.Start(context.Background()); !errors.Is(err, flow.ErrStarted) {
					errs.add("%s: Start: %v, want ErrStarted", loc, err)
				}
				r.mark(loc, "Wait")
				if err := g.Wait(); !errors.Is(err, flow.ErrInsideStage) {
					errs.add("%s: Wait: %v, want ErrInsideStage", loc, err)
				}
				r.mark(loc, "Err/Done")
				if err := g.Err(); err != nil {
					errs.add("%s: Err: %v", loc, err)
				}
				select {
				case <-g.Done():
					errs.add("%s: Done is closed while a stage runs", loc)
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), cbLimit/2)
				defer cancel()
				r.mark(loc, "side.TryPublish")
				if err := r.side.TryPublish(1); err == nil {
					r.sideAccepted.Add(1)
				} else if !(errors.Is(err, flow.ErrStopped) && stopping()) {
					errs.add("%s: TryPublish with room: %v", loc, err)
				}
				r.mark(loc, "side.Publish")
				if err := r.side.Publish(ctx, 1); err == nil {
					r.sideAccepted.Add(1)
				} else if !(errors.Is(err, flow.ErrStopped) && stopping()) {
					errs.add("%s: Publish with room: %v", loc, err)
				}
				r.mark(loc, "side.PublishBatch")
				n, err := r.side.PublishBatch(ctx, []int{1, 1})
				r.sideAccepted.Add(int64(n))
				if (err != nil || n != 2) && !(errors.Is(err, flow.ErrStopped) && stopping()) {
					errs.add("%s: PublishBatch with room: %d, %v", loc, n, err)
				}
				r.mark(loc, "full.TryPublish")
				switch err := r.full.TryPublish(1); {
				case err == nil:
					// Once the graph is stopping the gate is open, and the input may take an
					// entry until Stop's drain reaches it (it is then still delivered).
					if fullFilled.Load() && !stopping() {
						errs.add("%s: TryPublish into a full ring succeeded", loc)
					}
					r.fullAccepted.Add(1)
				case errors.Is(err, flow.ErrFull):
				case errors.Is(err, flow.ErrStopped) && stopping():
				default:
					errs.add("%s: TryPublish into a full ring: %v, want ErrFull", loc, err)
				}
				r.mark(loc, "Completed")
				if r.side.Completed() < 0 || r.full.Completed() < 0 || r.in.Completed() < 0 {
					errs.add("%s: a negative Completed", loc)
				}
				if src != nil {
					r.mark(loc, "SourceStage.Completed")
					if src.Completed() < 0 {
						errs.add("%s: a negative SourceStage.Completed", loc)
					}
				}
				if st != nil {
					r.mark(loc, "Stage methods")
					_ = st.Stopping()
					_, _ = st.Index(), st.Level()
					// A source has its loop in either mode; other stages only dedicated.
					l := st.Loop()
					if (l == nil) != (st.Mode() == flow.Shared && src == nil) {
						errs.add("%s: Loop() = %p on a %v stage (source: %t)", loc, l, st.Mode(), src != nil)
					}
				}
			}
			r := newCBRig(t, m, true, probe)
			r.start(t)
			// Fill the tiny input: its sink holds its first batch until the gate opens.
			for range 50 {
				if err := r.full.TryPublish(-1); errors.Is(err, flow.ErrFull) {
					break
				} else if err == nil {
					r.fullAccepted.Add(1)
				}
				time.Sleep(time.Millisecond)
			}
			fullFilled.Store(true)
			committed := r.publish(t, 200)
			if _, err := unix.Write(r.pipeW, []byte{1}); err != nil {
				t.Fatal(err)
			}
			for _, loc := range cbLocations {
				if !cbAfterStop[loc] {
					r.waitFired(t, loc)
				}
			}
			stopRequested.Store(true)
			r.openGate()
			if err := r.stopFromOutside(t); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			for _, loc := range cbLocations {
				select {
				case <-r.fired[loc]:
				default:
					t.Errorf("the hook at %s never ran", loc)
				}
			}
			errs.report(t)
			r.checkDelivery(t, committed)
		})
	}
}

// TestCallbackStopFromEveryCallback calls, from each place user code runs, Wait and Stop
// (both ErrInsideStage at once, Stop beginning the drain), or RequestStop (the Stage's
// where the place has one): the graph stops, Stop from outside returns nil, and every
// committed entry is delivered.
func TestCallbackStopFromEveryCallback(t *testing.T) {
	for _, m := range cbModes {
		for _, how := range []string{"Stop", "RequestStop"} {
			for _, loc := range cbLocations {
				t.Run(fmt.Sprintf("%v/%s/%s", m, how, loc), func(t *testing.T) {
					var errs cbErrs
					hook := func(r *cbRig, at string, st *flow.Stage, _ *flow.SourceStage[int]) {
						if at != loc || r.calls[at].Load() > 3 {
							return
						}
						defer r.mark(at, "")
						switch how {
						case "Stop":
							r.mark(at, "Wait")
							if err := r.g.Wait(); !errors.Is(err, flow.ErrInsideStage) {
								errs.add("%s: Wait: %v, want ErrInsideStage", at, err)
							}
							r.mark(at, "Stop")
							if err := r.g.Stop(); !errors.Is(err, flow.ErrInsideStage) {
								errs.add("%s: Stop: %v, want ErrInsideStage", at, err)
							}
						case "RequestStop":
							r.mark(at, "RequestStop")
							if st != nil {
								st.RequestStop()
								if !st.Stopping() {
									errs.add("%s: Stopping is false after RequestStop", at)
								}
							} else {
								r.g.RequestStop()
							}
						}
						r.mark(at, "Start")
						if err := r.g.Start(context.Background()); !errors.Is(err, flow.ErrStarted) {
							errs.add("%s: Start: %v, want ErrStarted", at, err)
						}
					}
					r := newCBRig(t, m, false, hook)
					r.start(t)
					committed := r.publish(t, 100)
					_, _ = unix.Write(r.pipeW, []byte{1}) // EPIPE once the timed level has ended
					if !cbAfterStop[loc] {
						r.waitFired(t, loc)
						select {
						case <-r.g.Done():
						case <-time.After(cbLimit):
							t.Fatalf("the graph did not stop within %v after %s from %s; in progress: %s\n%s",
								cbLimit, how, loc, r.inProgress(), statsText(r.g))
						}
					}
					if err := r.stopFromOutside(t); err != nil {
						t.Fatalf("Stop: %v", err)
					}
					r.waitFired(t, loc)
					errs.report(t)
					r.checkDelivery(t, committed)
				})
			}
		}
	}
}

// TestCallbackTimerEmitsIntoAFullRing: Stateful's doc says the emitter Init gets stays valid
// for the stage's life "so that the callbacks of fds and timers Init registers on the
// stage's loop can publish", and Emit waits for a free slot when the ring is full. Here a
// dedicated stage's timer emits bursts larger than its ring while a slow reader keeps the
// ring full: every entry emitted by the timer and by Each must arrive, and the graph must
// not fail. The timer's Emit blocks in the stage's own loop (the ring's publisher waiter is
// the stage's loop), inside that loop's callback: the poller panics, the graph stops with
// the panic as its error, and the entry is lost.
func TestCallbackTimerEmitsIntoAFullRing(t *testing.T) {
	timerEmits(t, 8)
}

// TestCallbackTimerEmitsWhileEachWaitsForRoom: the same with one entry per tick, so that the
// ring is filled by Each. Each's Emit, blocked on the full ring, waits in the stage's loop,
// which runs the timer's callback in the middle of that Emit; the callback's Emit claims a
// slot under the blocked one, the emitter's state is clobbered, and the next commit panics
// ("ring: commit of [5, 6) out of order or unclaimed") inside the stage's recovery, which
// crashes the whole process.
func TestCallbackTimerEmitsWhileEachWaitsForRoom(t *testing.T) {
	timerEmits(t, 1)
}

// timerEmits runs a dedicated Stateful level whose timer emits burst entries per tick into a
// ring of 4 that a slow sink drains, while Each emits its inputs.
func timerEmits(t *testing.T, burst int) {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(64))
	var ticked atomic.Int64
	var got atomic.Int64
	in.Stateful(1, flow.Stateful[int, *poller.Timer, int]{
		Init: func(st *flow.Stage, e *flow.Emitter[int]) (*poller.Timer, error) {
			return st.Loop().Every(200*time.Microsecond, func() {
				for range burst {
					e.Emit(-1)
					ticked.Add(1)
				}
			}), nil
		},
		Each: func(_ *poller.Timer, v int, e *flow.Emitter[int]) error { e.Emit(v); return nil },
		End:  func(tm *poller.Timer, _ *flow.Emitter[int]) error { tm.Stop(); return nil },
	}, flow.StageMode(flow.Dedicated), flow.Capacity(4), flow.Name("timed")).
		Sink(1, func(int) {
			time.Sleep(100 * time.Microsecond)
			got.Add(1)
		}, flow.Name("slow"))
	start(t, g)
	const n = 200
	for i := range n {
		if err := in.Publish(context.Background(), i); err != nil {
			t.Fatalf("Publish(%d): %v; the graph's error: %v", i, err, g.Err())
		}
	}
	if !eventually(func() bool { return ticked.Load() >= 64 }) {
		t.Fatalf("the timer emitted %d entries; graph error so far: %v", ticked.Load(), g.Err())
	}
	if err := stopWithin(t, g, cbLimit); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got.Load() != n+ticked.Load() {
		t.Fatalf("the sink got %d entries, want %d inputs + %d the timer emitted", got.Load(), n, ticked.Load())
	}
}

// TestCallbackSourceTimerEmitsIntoAFullRing is the same for a source, whose ring parks its
// publisher in the Go runtime rather than in the loop that runs the callback.
func TestCallbackSourceTimerEmitsIntoAFullRing(t *testing.T) {
	g := flow.New()
	var ticked, got atomic.Int64
	flow.Source(g, 1, func(ss *flow.SourceStage[int]) error {
		ss.Loop().Every(200*time.Microsecond, func() {
			for range 8 {
				if ss.Emit(-1) == nil {
					ticked.Add(1)
				}
			}
		})
		return nil
	}, flow.Capacity(4)).Sink(1, func(int) {
		time.Sleep(100 * time.Microsecond)
		got.Add(1)
	})
	start(t, g)
	if !eventually(func() bool { return ticked.Load() >= 64 }) {
		t.Fatalf("the timer emitted %d entries; graph error so far: %v", ticked.Load(), g.Err())
	}
	if err := stopWithin(t, g, cbLimit); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if got.Load() != ticked.Load() {
		t.Fatalf("the sink got %d entries, want the %d the timer emitted", got.Load(), ticked.Load())
	}
}

// TestCallbackFragmentRunLevels: levels of Fragment.Run that call their Stage's methods
// (Stopping, Loop, RequestStop) from Init, Expand, a batch function and End: Run returns,
// and either delivers every entry or says why not.
func TestCallbackFragmentRunLevels(t *testing.T) {
	for _, m := range cbModes {
		for _, stopAt := range []string{"", "init", "expand", "batch", "end"} {
			t.Run(fmt.Sprintf("%v/stop-at-%q", m, stopAt), func(t *testing.T) {
				var errs cbErrs
				touch := func(where string, st *flow.Stage) {
					_ = st.Stopping()
					if l := st.Loop(); (l == nil) != (st.Mode() == flow.Shared) {
						errs.add("%s: Loop() = %v on a %v stage", where, l, st.Mode())
					}
					if where == stopAt {
						st.RequestStop()
						if !st.Stopping() {
							errs.add("%s: Stopping is false after RequestStop", where)
						}
					}
				}
				f := flow.Chain[int]().
					Expand(1, func(v int, e *flow.Emitter[int]) {
						if v == 50 {
							touch("expand", e.Stage())
						}
						e.Emit(v)
					}).
					ThenBatch(1, func(b *flow.Batch[int], e *flow.Emitter[int]) error {
						touch("batch", b.Stage())
						for _, v := range b.All() {
							e.Emit(*v)
						}
						return nil
					}).
					Stateful(1, flow.Stateful[int, int, int]{
						Init: func(st *flow.Stage, _ *flow.Emitter[int]) (int, error) { touch("init", st); return 0, nil },
						Each: func(_ int, v int, e *flow.Emitter[int]) error { e.Emit(v); return nil },
						End:  func(_ int, e *flow.Emitter[int]) error { touch("end", e.Stage()); return nil },
					})
				type result struct {
					out []int
					err error
				}
				done := make(chan result, 1)
				go func() {
					out, err := f.Run(context.Background(), seq(200), flow.GraphMode(m))
					done <- result{out, err}
				}()
				var res result
				select {
				case res = <-done:
				case <-time.After(cbLimit):
					t.Fatalf("Run did not return within %v", cbLimit)
				}
				errs.report(t)
				if res.err == nil && len(res.out) != 200 {
					t.Fatalf("Run returned %d of 200 entries and no error", len(res.out))
				}
				if res.err != nil && !errors.Is(res.err, flow.ErrStopped) {
					t.Fatalf("Run: %v", res.err)
				}
				if stopAt == "" && res.err != nil {
					t.Fatalf("Run without a stop: %v", res.err)
				}
			})
		}
	}
}

// TestCallbackOnStopRegisteredInsideOnStop: OnStop registers f "to run on the stage's
// goroutine when it ends"; one registered by another OnStop hook, while the stage ends,
// must still run (or the registration must be refused visibly).
func TestCallbackOnStopRegisteredInsideOnStop(t *testing.T) {
	var inner atomic.Bool
	g := flow.New()
	flow.Source(g, 1, func(ss *flow.SourceStage[int]) error {
		ss.OnStop(func() {
			ss.OnStop(func() { inner.Store(true) })
		})
		ss.Finish()
		return nil
	}).Sink(1, func(int) {})
	start(t, g)
	waitWithin(t, g, cbLimit)
	if !inner.Load() {
		t.Fatal("an OnStop hook registered by another OnStop hook never ran")
	}
}

// TestCallbackOnStopAfterAFailingHook: a hook that panics or calls runtime.Goexit is the
// stage's failure, and the hooks after it (one it registered among them) still run, in order.
func TestCallbackOnStopAfterAFailingHook(t *testing.T) {
	for _, exit := range []bool{false, true} {
		t.Run(fmt.Sprint("goexit=", exit), func(t *testing.T) {
			var mu sync.Mutex
			var ran []int
			hook := func(i int) func() {
				return func() { mu.Lock(); ran = append(ran, i); mu.Unlock() }
			}
			g := flow.New()
			flow.Source(g, 1, func(ss *flow.SourceStage[int]) error {
				ss.OnStop(hook(1))
				ss.OnStop(func() { hook(2)(); ss.OnStop(hook(5)) })
				ss.OnStop(func() {
					hook(3)()
					if exit {
						runtime.Goexit()
					}
					panic("hook 3 fails")
				})
				ss.OnStop(hook(4))
				ss.Finish()
				return nil
			}, flow.Name("src")).Sink(1, func(int) {})
			start(t, g)
			waitWithin(t, g, cbLimit)
			err := g.Wait()
			var se *flow.StageError
			if !errors.As(err, &se) || se.Level != "src" || (se.Panic != nil) == exit {
				t.Fatalf("the graph ended with %v; want the failure of hook 3 as a StageError of src", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(ran, []int{1, 2, 3, 4, 5}) {
				t.Fatalf("hooks ran %v; want [1 2 3 4 5]", ran)
			}
		})
	}
}
