//go:build race

package flow_test

// raceEnabled scales the heaviest stress tests down under the race detector, which
// slows every atomic and channel operation by an order of magnitude.
const raceEnabled = true
