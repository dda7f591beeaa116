package flow_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/flow"
)

// Regression tests for problems the reliability tests found in the library.

// TestStopInsideStageReturns: Stop called from a stage's function used to wait for its own
// stage forever. It now begins the drain and returns ErrInsideStage.
func TestStopInsideStageReturns(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	returned := make(chan error, 1)
	in.Sink(1, func(int) { returned <- g.Stop() })
	start(t, g)
	if err := in.Publish(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-returned:
		if !errors.Is(err, flow.ErrInsideStage) {
			t.Fatalf("Stop from a stage: %v, want ErrInsideStage", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop called from a stage's function did not return (it waits for its own stage)")
	}
	waitWithin(t, g, drainLimit)
}

// TestNegativeCPURejected: CPUs(-1) used to be accepted and leave the stage unpinned.
func TestNegativeCPURejected(t *testing.T) {
	g := flow.New()
	flow.Input[int](g).Sink(1, func(int) {}, flow.CPUs(-1))
	err := g.Start(context.Background())
	if err == nil {
		_ = g.Stop()
		t.Fatal("Start accepted CPUs(-1); the stage ran unpinned")
	}
	if !strings.Contains(err.Error(), "negative CPU -1") {
		t.Fatalf("CPUs(-1): %v", err)
	}
}

// TestPlacementNoneWithCPUsRejected: Placement(affinity.None, 0) used to ignore the list.
func TestPlacementNoneWithCPUsRejected(t *testing.T) {
	g := flow.New(flow.Placement(affinity.None, 0))
	flow.Input[int](g).Sink(1, func(int) {})
	err := g.Start(context.Background())
	if err == nil {
		_ = g.Stop()
		t.Fatal("Start accepted Placement(None, 0); the CPU list was ignored")
	}
	if !strings.Contains(err.Error(), "placement none with CPUs") {
		t.Fatalf("Placement(None, 0): %v", err)
	}
}
