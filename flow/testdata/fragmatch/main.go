// The well-typed twin of fragmismatch: the same program with the stream's type fixed.
package main

import (
	"strconv"

	"github.com/loopyring/loopyring/flow"
)

func main() {
	double := flow.Level(1, func(n int) int { return n * 2 }).Then(1, strconv.Itoa)
	g := flow.New()
	in := flow.Input[int](g)
	in.Via(double).
		Sink(1, func(string) {})
}
