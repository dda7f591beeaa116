package flow_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/poller"
)

// threadCount reads the process's OS thread count from /proc/self/status.
func threadCount(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("cannot count threads: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Threads:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil {
				t.Fatalf("Threads line %q: %v", sc.Text(), err)
			}
			return n
		}
	}
	t.Skip("no Threads line in /proc/self/status")
	return 0
}

// leakKind builds, runs and ends one graph of some kind, calling during while its stages
// run (not at all when Start fails). stages is how many stages it runs.
type leakKind struct {
	name   string
	stages int
	run    func(t *testing.T, during func())
}

// pipeSource is a source stage that owns descriptors: a pipe whose read end is registered
// on the stage's loop, and a timer that writes into the write end. Every byte read becomes
// an entry. OnStop unregisters and closes both ends, as a real listener would.
func pipeSource(s *flow.SourceStage[int]) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	rfd := int(r.Fd())
	n := 0
	buf := make([]byte, 64)
	if err := s.Loop().Add(rfd, poller.Readable, func(int, poller.Events) {
		k, _ := r.Read(buf)
		for range k {
			if s.Emit(n) != nil {
				return
			}
			n++
		}
	}); err != nil {
		r.Close()
		w.Close()
		return err
	}
	tick := s.Loop().Every(200*time.Microsecond, func() { _, _ = w.Write([]byte{1}) })
	s.OnStop(func() {
		tick.Stop()
		_ = s.Loop().Remove(rfd)
		r.Close()
		w.Close()
	})
	return nil
}

var leakKinds = []leakKind{
	{"chain", 5, func(t *testing.T, during func()) {
		g := flow.New(flow.GraphMode(flow.Dedicated))
		in := flow.Input[int](g, flow.Capacity(16))
		in.Then(2, id, flow.Capacity(8)).Filter(1, func(v int) (int, bool) { return v, v%2 == 0 }).Sink(2, func(int) {})
		start(t, g)
		publishAll(t, in, 500, id)
		during()
		mustStop(t, g, nil)
	}},
	{"keyed broadcast diamond", 7, func(t *testing.T, during func()) {
		g := flow.New(flow.GraphMode(flow.Dedicated))
		in := flow.Input[int](g)
		w := in.KeyBy(func(v int) uint64 { return uint64(v) }).Then(2, id)
		a := w.Phase(1, func(*int) {})
		b := w.PhaseErr(2, func(*int) error { return nil })
		flow.Merge(a, b).Broadcast().SinkBatch(2, func(*flow.Batch[int]) error { return nil })
		start(t, g)
		publishAll(t, in, 500, id)
		during()
		mustStop(t, g, nil)
	}},
	{"sources with fds and timers", 4, fdSources(flow.Dedicated)},
	// Shared sources keep their loops' descriptors, but not a thread each: 1 stage counted.
	{"shared sources with fds and timers", 1, fdSources(flow.Shared)},
	{"source that finishes", 2, func(t *testing.T, during func()) {
		g := flow.New(flow.GraphMode(flow.Dedicated))
		release := make(chan struct{})
		flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
			s.Loop().AfterFunc(0, func() {
				<-release
				s.Finish()
			})
			return nil
		}).Sink(1, func(int) {})
		start(t, g)
		during()
		close(release)
		mustEnd(t, g)
	}},
	{"stopped by a failure", 3, func(t *testing.T, during func()) {
		g := flow.New(flow.GraphMode(flow.Dedicated))
		in := flow.Input[int](g)
		hold := make(chan struct{})
		in.ThenErr(2, func(v int) (int, error) {
			if v == 0 {
				<-hold
				return 0, errInjected
			}
			return v, nil
		}).Sink(1, func(int) {})
		start(t, g)
		publishAll(t, in, 10, id)
		during()
		close(hold)
		waitWithin(t, g, drainLimit)
		if err := g.Wait(); !errors.Is(err, errInjected) {
			t.Fatalf("Wait: %v, want the injected failure", err)
		}
	}},
	{"cancelled", 4, func(t *testing.T, during func()) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		g := flow.New(flow.GraphMode(flow.Dedicated))
		in := flow.Input[int](g)
		in.Then(3, id).Sink(1, func(int) {})
		if err := g.Start(ctx); err != nil {
			t.Fatal(err)
		}
		publishAll(t, in, 100, id)
		during()
		cancel()
		waitWithin(t, g, drainLimit)
	}},
	{"invalid", 0, func(t *testing.T, during func()) {
		g := flow.New(flow.GraphMode(flow.Dedicated))
		flow.Input[int](g).Then(0, id).Sink(1, func(int) {})
		if err := g.Start(context.Background()); err == nil {
			t.Fatal("Start accepted a level of 0 stages")
		}
	}},
	{"pin failure after build", 0, func(t *testing.T, during func()) {
		g := flow.New(flow.GraphMode(flow.Dedicated))
		flow.Input[int](g).Then(2, id, flow.CPUs(1<<20)).Sink(1, func(int) {})
		if err := g.Start(context.Background()); err == nil {
			t.Fatal("Start pinned to CPU 1<<20")
		}
	}},
}

// fdSources returns a leak kind whose sources, in mode m, own a pipe and timers on their
// loops (pipeSource) beside a source that emits from a timer.
func fdSources(m flow.Mode) func(t *testing.T, during func()) {
	return func(t *testing.T, during func()) {
		g := flow.New(flow.GraphMode(m))
		var got atomic.Int64
		src := flow.Source(g, 2, pipeSource, flow.Capacity(64))
		tick := flow.Source(g, 1, func(s *flow.SourceStage[int]) error {
			s.Loop().Every(time.Millisecond, func() { _ = s.Emit(-1) })
			return nil
		})
		flow.Merge(src, tick).Sink(1, func(int) { got.Add(1) })
		start(t, g)
		deadline := time.Now().Add(drainLimit)
		for got.Load() < 20 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got.Load() < 20 {
			t.Fatalf("the fd and timer sources produced %d entries\n%s", got.Load(), statsText(g))
		}
		for _, st := range g.Stats() {
			if st.Mode != m {
				t.Fatalf("level %s stage %d runs %v, want %v", st.Level, st.Stage, st.Mode, m)
			}
		}
		during()
		mustStop(t, g, nil)
	}
}

// TestNoDescriptorOrThreadLeaks builds, runs and ends many graphs of every kind, dedicated
// (the mode that owns descriptors and threads; shared stages are goroutines, which goleak
// checks), and shared sources, which own descriptors too: chains,
// keyed, broadcast and phase diamonds, sources that own pipes and timers, sources that
// finish, graphs stopped by a failure or by their context, and graphs whose Start fails
// before or after building. Afterwards the process must hold the same descriptors, and no
// more OS threads than before plus a small slack (TestStageThreadsAreRetired checks the
// stages' own threads one by one). The checks are shown to be live: while a graph runs
// there are more descriptors, and at least a thread per stage.
func TestNoDescriptorOrThreadLeaks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("counts descriptors and threads through /proc")
	}
	const threadSlack = 8
	// Warm up: the runtime's own threads (GC workers, sysmon, timers) and the test's
	// helpers start on first use; they are not what this test looks for.
	for _, k := range leakKinds {
		k.run(t, func() {})
	}
	runtime.GC()
	fds0, threads0 := openFDs(t), threadCount(t)
	rounds := scale(10, 3)
	for r := range rounds {
		for _, k := range leakKinds {
			during := -1
			k.run(t, func() {
				if fds := openFDs(t); fds <= fds0 {
					t.Fatalf("%s: %d descriptors open while a graph runs, %d before: the fd check is void", k.name, fds, fds0)
				}
				// Each dedicated stage is locked to its own thread, and the test runs on another
				// (a shared kind counts one stage, which any running graph exceeds).
				if during = threadCount(t); during < k.stages+1 {
					t.Fatalf("%s: %d threads while its %d stages run: the thread count is void", k.name, during, k.stages)
				}
			})
			if (during >= 0) != (k.stages > 0) {
				t.Fatalf("round %d, %s: ran=%v with %d stages", r, k.name, during >= 0, k.stages)
			}
		}
	}
	if fds := openFDs(t); fds != fds0 {
		t.Fatalf("open descriptors: %d before %d rounds of graphs, %d after", fds0, rounds, fds)
	}
	// A retired thread's exit is asynchronous; give the last ones a moment.
	eventually(func() bool { return threadCount(t) <= threads0+threadSlack })
	if threads := threadCount(t); threads > threads0+threadSlack {
		t.Fatalf("OS threads: %d before %d graphs, %d after (slack %d): stage threads are not retired",
			threads0, rounds*len(leakKinds), threads, threadSlack)
	}
}

// TestNoLeaksAcrossManyStartStopCycles starts and stops graphs in the suite's mode
// (LOOPYRING_FLOW_MODE; TestNoDescriptorOrThreadLeaks runs dedicated ones) and checks that
// the open descriptors do not grow.
func TestNoLeaksAcrossManyStartStopCycles(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("fd counting uses /proc")
	}
	before := openFDs(t)
	for range scale(40, 8) {
		g := flow.New()
		in := flow.Input[int](g)
		in.Then(2, id).Then(3, id).Sink(2, func(int) {})
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		publishAll(t, in, 100, id)
		if err := g.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	if after := openFDs(t); after > before {
		t.Fatalf("open fds grew from %d to %d over start/stop cycles", before, after)
	}
	// goleak in TestMain checks the goroutines.
}
