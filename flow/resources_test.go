package flow_test

import (
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// TestAbsurdWidthsAreBuildErrors: widths beyond MaxStages once reached the allocator (1<<40
// stages died of "out of memory", 1<<62 panicked in makeslice). Every bad width is reported
// by one Start, with the others, before anything is allocated.
func TestAbsurdWidthsAreBuildErrors(t *testing.T) {
	// Written to fit a 32-bit int too; on 64 bits, 1<<40 and 1<<62 behaved as MaxInt does.
	widths := []int{0, -1, flow.MaxStages + 1, 1 << 30, math.MaxInt}
	g := flow.New()
	in := flow.Input[int](g)
	for i, w := range widths {
		in.Then(w, id, flow.Name(fmt.Sprintf("w%d", i))).Sink(1, func(int) {}, flow.Name(fmt.Sprintf("s%d", i)))
	}
	flow.Source(g, math.MaxInt/2, func(*flow.SourceStage[int]) error { return nil }, flow.Name("src")).Sink(1, func(int) {})
	wants := []string{fmt.Sprintf(`level "src": %d stages; a level may have at most MaxStages (%d)`, math.MaxInt/2, flow.MaxStages)}
	for i, w := range widths {
		wants = append(wants, fmt.Sprintf(`level "w%d": %d stages`, i, w))
	}
	errorMentions(t, g.Start(t.Context()), wants...)
	// The bound itself is allowed.
	g = flow.New(flow.GraphMode(flow.Shared))
	in = flow.Input[int](g, flow.Capacity(128))
	var seen atomic.Int64
	in.Sink(flow.MaxStages, func(int) { seen.Add(1) }, flow.Name("widest"))
	start(t, g)
	if _, err := in.PublishBatch(t.Context(), make([]int, 100)); err != nil { // one commit wakes every stage once
		t.Fatal(err)
	}
	mustStop(t, g, nil)
	if seen.Load() != 100 {
		t.Fatalf("%d of 100 delivered", seen.Load())
	}
}

// TestAbsurdRingMemoryIsAnError: a capacity within the checks of entries too large to hold
// that many made Start panic inside make, with the graph's lock held, so that Stop then
// hung. Start reports it, naming the level, and the graph stays usable: Stop returns.
func TestAbsurdRingMemoryIsAnError(t *testing.T) {
	type huge [1 << 20]byte
	g := flow.New()
	in := flow.Input[huge](g, flow.Capacity(1<<30), flow.Name("huge"))
	in.Sink(1, func(huge) {})
	errorMentions(t, g.Start(t.Context()), `level "huge"`, "1073741824 slots of")
	stopWithin(t, g, drainLimit)
}
