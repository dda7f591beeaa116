// This program must NOT compile: the second level takes an int, but the first one
// produces strings. flow's compile test builds it and expects the type error.
package main

import (
	"strconv"

	"github.com/loopyring/loopyring/flow"
)

func main() {
	g := flow.New()
	in := flow.Input[int](g)
	in.Then(1, strconv.Itoa).
		Then(1, func(n int) int { return n * 2 }). // mismatched edge: string into int
		Sink(1, func(int) {})
}
