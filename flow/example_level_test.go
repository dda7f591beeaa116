package flow_test

import (
	"context"
	"fmt"
	"log"
	"slices"
	"strconv"
	"strings"
	"sync"

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
			Each: func(m map[string]int, w string, _ *flow.Emitter[count]) error {
				m[w]++
				return nil
			},
			End: func(m map[string]int, e *flow.Emitter[count]) error {
				for w, n := range m {
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

// The README's quick start, as written there, with a parse, handle and reply to run it.
func Example_quickStart() {
	type Request struct {
		Key  uint64
		Body string
	}
	type Response struct{ Line string }
	parse := func(b []byte) Request {
		k, body, _ := strings.Cut(string(b), " ")
		n, _ := strconv.ParseUint(k, 10, 64)
		return Request{Key: n, Body: body}
	}
	handle := func(r Request) Response { return Response{fmt.Sprintf("%d:%s", r.Key, strings.ToUpper(r.Body))} }
	var (
		mu      sync.Mutex
		replies []string
	)
	reply := func(r Response) {
		mu.Lock()
		replies = append(replies, r.Line)
		mu.Unlock()
	}
	ctx := context.Background()

	// 2 parser stages, then 4 workers; equal keys reach the same worker.
	serve := flow.Level[[]byte, Request](2, parse, flow.Name("parse")).
		KeyBy(func(r Request) uint64 { return r.Key }).
		Then[Response](4, handle, flow.Name("work"))

	g := flow.New()
	in := flow.Input[[]byte](g, flow.Name("requests")) // external publishers write here
	in.Via(serve).Sink(2, reply, flow.Name("reply"))   // 2 repliers

	if err := g.Start(ctx); err != nil { // every build problem, reported at once
		log.Fatal(err)
	}
	for _, msg := range []string{"1 get", "2 set", "1 del"} {
		if err := in.Publish(ctx, []byte(msg)); err != nil { // nil means committed: it will be delivered
			log.Fatal(err)
		}
	}
	err := g.Stop() // drains everything committed, joins every stage
	slices.Sort(replies)
	fmt.Println(replies, err)
	// Output: [1:DEL 1:GET 2:SET] <nil>
}
