// The same program as ../mismatch with the edge fixed; flow's compile test builds it and
// expects success, so that the mismatch test fails for the right reason only.
package main

import (
	"strconv"

	"github.com/loopyring/loopyring/flow"
)

func main() {
	g := flow.New()
	in := flow.Input[int](g)
	in.Then(1, strconv.Itoa).
		Then(1, func(s string) int { return len(s) * 2 }).
		Sink(1, func(int) {})
}
