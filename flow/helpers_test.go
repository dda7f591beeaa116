package flow_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// scale returns full under the default run and small under -short.
func scale(full, small int) int {
	if testing.Short() {
		return small
	}
	return full
}

// collector is a sink's thread-safe record of what it received, per stage.
type collector[T any] struct {
	mu  sync.Mutex
	got map[int][]T // by stage index, filled by per-stage sinks
	all []T
}

func newCollector[T any]() *collector[T] { return &collector[T]{got: map[int][]T{}} }

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

// stopWithin stops g, failing the test if the drain takes longer than d (a hang, not a
// performance bound).
func stopWithin(t *testing.T, g *flow.Graph, d time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- g.Stop() }()
	select {
	case err := <-errc:
		return err
	case <-time.After(d):
		t.Fatalf("Stop did not return within %v; stats: %+v", d, g.Stats())
		return nil
	}
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
