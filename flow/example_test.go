package flow_test

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/loopyring/loopyring/flow"
)

// A three-level pipeline: two parser stages, four workers that own keys, one sink.
func Example() {
	type order struct {
		customer string
		cents    int
	}
	g := flow.New()
	in := flow.Input[string](g, flow.Name("lines"))
	totals := map[string]int{} // owned by the single sink stage
	in.Filter(2, func(line string) (order, bool) {
		var o order
		_, err := fmt.Sscanf(line, "%s %d", &o.customer, &o.cents)
		return o, err == nil
	}, flow.Name("parse")).
		KeyBy(func(o order) uint64 { return uint64(len(o.customer)) }).
		Then(4, func(o order) order { o.customer = strings.ToUpper(o.customer); return o }, flow.Name("normalise")).
		Sink(1, func(o order) { totals[o.customer] += o.cents }, flow.Name("total"))

	if err := g.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range []string{"ada 250", "bob 100", "not an order", "ada 50", "cy 7"} {
		if err := in.Publish(context.Background(), line); err != nil {
			fmt.Println(err)
		}
	}
	if err := g.Stop(); err != nil { // drains every published line
		fmt.Println(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range totals {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		fmt.Println(name, totals[name])
	}
	// Output:
	// ADA 300
	// BOB 100
	// CY 7
}

// Start reports every problem of a graph at once.
func ExampleGraph_Start_validation() {
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(1000))
	in.Then(0, func(v int) int { return v }, flow.Name("square"))
	err := g.Start(context.Background())
	fmt.Println(err)
	// Output:
	// flow: level "input#0": ring: capacity 1000 is not a power of two
	// flow: level "square": 0 stages; a level needs at least 1
	// flow: level "square": output is never read; end the chain with Sink
}

// Phases run over the same ring entries in dependency order, without copying.
func ExampleStream_Phase() {
	type trade struct {
		id                  int
		journaled, sent, ok bool
	}
	g := flow.New()
	in := flow.Input[trade](g)
	journal := in.Phase(1, func(t *trade) { t.journaled = true })
	replicate := journal.Phase(1, func(t *trade) { t.sent = true })
	check := journal.Phase(1, func(t *trade) { t.ok = t.id >= 0 })
	var done []int
	flow.Merge(replicate, check).Sink(1, func(t trade) {
		if t.journaled && t.sent && t.ok {
			done = append(done, t.id)
		}
	})
	_ = g.Start(context.Background())
	for i := range 3 {
		_ = in.Publish(context.Background(), trade{id: i})
	}
	_ = g.Stop()
	fmt.Println(done)
	// Output: [0 1 2]
}
