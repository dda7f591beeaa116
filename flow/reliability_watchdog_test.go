package flow_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/loopyring/loopyring/flow"
)

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

// waitWithin waits for g to be done and turns a hang into a failure that prints the
// topology and every stage's state. d detects a hang; it is not a performance bound.
func waitWithin(t fataler, g *flow.Graph, d time.Duration) {
	t.Helper()
	select {
	case <-g.Done():
	case <-time.After(d):
		t.Fatalf("the graph did not stop within %v\ntopology:\n%sstages:\n%s", d, g.String(), statsText(g))
	}
}

// stopGraphWithin stops g under the same watchdog and returns Stop's error.
func stopGraphWithin(t fataler, g *flow.Graph, d time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- g.Stop() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		t.Fatalf("Stop did not return within %v\ntopology:\n%sstages:\n%s", d, g.String(), statsText(g))
		return nil
	}
}

// doneWithin waits for a group of goroutines (done is closed when they all return) under
// the same watchdog.
func doneWithin(t fataler, g *flow.Graph, done <-chan struct{}, what string, d time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %v\ntopology:\n%sstages:\n%s", what, d, g.String(), statsText(g))
	}
}
