// This program must NOT compile: the fragment reads int, but the stream it is applied to
// carries strings. flow's compile test builds it and expects the type error.
package main

import (
	"strconv"

	"github.com/loopyring/loopyring/flow"
)

func main() {
	double := flow.Level(1, func(n int) int { return n * 2 }).Then(1, strconv.Itoa)
	g := flow.New()
	in := flow.Input[string](g)
	in.Via(double). // mismatched fragment: string into int
			Sink(1, func(string) {})
}
