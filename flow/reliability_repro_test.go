package flow_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
