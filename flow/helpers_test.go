package flow_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// drainLimit bounds every wait for a graph to drain or stop. It detects a hang; it is not a
// performance bound.
const drainLimit = 30 * time.Second

// scale returns full under the default run and small under -short.
func scale(full, small int) int {
	if testing.Short() {
		return small
	}
	return full
}

func id(v int) int { return v }

// seq returns 0..n-1.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// collector is a sink's thread-safe record of what it received. The zero value is ready.
type collector[T any] struct {
	mu  sync.Mutex
	all []T
}

func (c *collector[T]) add(v T) {
	c.mu.Lock()
	c.all = append(c.all, v)
	c.mu.Unlock()
}

func (c *collector[T]) items() []T {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]T(nil), c.all...)
}

// start starts g and registers a Stop in cleanup; it fails the test on a start error.
func start(t *testing.T, g *flow.Graph) {
	t.Helper()
	if err := g.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = g.Stop() })
}

// publishAll publishes 0..n-1 (as produced by mk) and fails the test on any error.
func publishAll[T any](t *testing.T, p *flow.Publisher[T], n int, mk func(i int) T) {
	t.Helper()
	for i := range n {
		if err := p.Publish(context.Background(), mk(i)); err != nil {
			t.Fatalf("Publish(%d): %v", i, err)
		}
	}
}

// publishUntilRefused publishes 0..n-1 until the graph refuses one, which it must refuse
// with ErrStopped (a failure under StopGraph, or a cancellation, stops it), and returns how
// many were committed.
func publishUntilRefused(t *testing.T, in *flow.Publisher[int], n int) int {
	t.Helper()
	for i := range n {
		if err := in.Publish(t.Context(), i); err != nil {
			if !errors.Is(err, flow.ErrStopped) {
				t.Fatalf("Publish(%d): %v, want nil or ErrStopped", i, err)
			}
			return i
		}
	}
	return n
}

// errorMentions fails the test unless err is an error whose text contains each of wants.
func errorMentions(t *testing.T, err error, wants ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one that mentions %q", wants)
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// fataler is what the watchdogs need from *testing.T and *rapid.T alike.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// statsText renders every stage's counters, one line each, so that a hang names the stage
// that holds the graph up: a stage whose In stopped while its upstream Queue is full, a
// level whose Blocked keeps growing.
func statsText(g *flow.Graph) string {
	var b strings.Builder
	for _, s := range g.Stats() {
		fmt.Fprintf(&b, "  %-14s stage %d: in=%d out=%d batches=%d errors=%d blocked=%d sleeps=%d wakeups=%d queue=%d/%d\n",
			s.Level, s.Stage, s.In, s.Out, s.Batches, s.Errors, s.Blocked, s.Sleeps, s.Wakeups, s.Queue, s.Capacity)
	}
	return b.String()
}

// hung fails the test for something that did not happen within d, with the topology and
// every stage's state.
func hung(t fataler, g *flow.Graph, what string, d time.Duration) {
	t.Helper()
	t.Fatalf("%s within %v\ntopology:\n%sstages:\n%s", what, d, g.String(), statsText(g))
}

// waitWithin waits for g to be done and turns a hang into a failure that prints the
// topology and every stage's state.
func waitWithin(t fataler, g *flow.Graph, d time.Duration) {
	t.Helper()
	select {
	case <-g.Done():
	case <-time.After(d):
		hung(t, g, "the graph did not stop", d)
	}
}

// stopWithin stops g under the same watchdog and returns Stop's error.
func stopWithin(t fataler, g *flow.Graph, d time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- g.Stop() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		hung(t, g, "Stop did not return", d)
		return nil
	}
}

// mustEnd waits within drainLimit for g to end by itself and fails the test unless Wait's
// error is nil.
func mustEnd(t *testing.T, g *flow.Graph) {
	t.Helper()
	waitWithin(t, g, drainLimit)
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}

// mustStop stops g within drainLimit and fails the test unless Stop's error is want.
func mustStop(t *testing.T, g *flow.Graph, want error) {
	t.Helper()
	if err := stopWithin(t, g, drainLimit); !errors.Is(err, want) {
		t.Fatalf("Stop: %v, want %v", err, want)
	}
}

// doneWithin waits for a group of goroutines (done is closed when they all return) under
// the same watchdog.
func doneWithin(t fataler, g *flow.Graph, done <-chan struct{}, what string, d time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		hung(t, g, what+" did not return", d)
	}
}

// eventually polls cond for up to two seconds: long enough for an exiting thread to be
// reaped on a loaded machine, short enough to keep a failure quick.
func eventually(cond func() bool) bool {
	for range 200 {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// openFDs counts the process's open descriptors; it skips the test where /proc is missing.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(ents)
}

// perLevel sums the stats of each level's stages: counters add up, Capacity is the stages'.
func perLevel(g *flow.Graph) map[string]flow.StageStats {
	out := map[string]flow.StageStats{}
	for _, s := range g.Stats() {
		agg := out[s.Level]
		agg.Level, agg.Capacity = s.Level, s.Capacity
		agg.In += s.In
		agg.Out += s.Out
		agg.Batches += s.Batches
		agg.Errors += s.Errors
		agg.Blocked += s.Blocked
		out[s.Level] = agg
	}
	return out
}
