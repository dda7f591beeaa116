package flow_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/loopyring/loopyring/flow"
)

// The design card's shape: a level is a typed value, built without a graph, composed with
// Then, and applied to the streams of any number of graphs with Via.
func ExampleLevel() {
	// Defined once: parse a line into a number, drop what does not parse, square it.
	parse := flow.Level(2, strings.TrimSpace).
		Filter(2, func(s string) (int, bool) {
			n, err := strconv.Atoi(s)
			return n, err == nil
		}).
		Then(1, func(n int) int { return n * n })

	// Used in two graphs.
	run := func(lines ...string) []int {
		g := flow.New()
		in := flow.Input[string](g)
		var got []int // owned by the one sink stage until Stop returns
		in.Via(parse).Sink(1, func(n int) { got = append(got, n) })
		if err := g.Start(context.Background()); err != nil {
			panic(err)
		}
		if _, err := in.PublishBatch(context.Background(), lines); err != nil {
			panic(err)
		}
		if err := g.Stop(); err != nil {
			panic(err)
		}
		slices.Sort(got)
		return got
	}
	fmt.Println(run(" 3", "x", "4 "))
	fmt.Println(run("10", "-2"))

	// And tested alone.
	out, err := parse.Run(context.Background(), []string{"5"})
	fmt.Println(out, err)
	// Output:
	// [9 16]
	// [4 100]
	// [25] <nil>
}

// A word count whose counting stages each keep their counts in their own state and hand them
// on when their input ends: no shared map, no lock, no index by stage.
func ExampleStateful() {
	type count struct {
		word string
		n    int
	}
	g := flow.New()
	in := flow.Input[string](g)
	totals := map[string]int{} // owned by the one sink stage until Stop returns
	in.Expand(1, func(line string, e *flow.Emitter[string]) {
		for _, w := range strings.Fields(line) {
			e.Emit(w)
		}
	}).
		KeyBy(func(w string) uint64 { return uint64(len(w)) }).
		Stateful(3, flow.Stateful[string, map[string]int, count]{
			Init: func(*flow.Stage, *flow.Emitter[count]) (map[string]int, error) { return map[string]int{}, nil },
			Each: func(m *map[string]int, w string, _ *flow.Emitter[count]) error {
				(*m)[w]++
				return nil
			},
			End: func(m *map[string]int, e *flow.Emitter[count]) error {
				for w, n := range *m {
					e.Emit(count{w, n})
				}
				return nil
			},
		}).
		Sink(1, func(c count) { totals[c.word] += c.n })
	_ = g.Start(context.Background())
	_, _ = in.PublishBatch(context.Background(), []string{"a rose is", "a rose is a rose"})
	_ = g.Stop()
	for _, w := range slices.Sorted(func(yield func(string) bool) {
		for w := range totals {
			if !yield(w) {
				return
			}
		}
	}) {
		fmt.Println(w, totals[w])
	}
	// Output:
	// a 3
	// is 2
	// rose 3
}
