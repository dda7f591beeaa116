//go:build race

package ring_test

// raceEnabled scales the stress tests down under the race detector, which slows
// every atomic and channel operation by an order of magnitude.
const raceEnabled = true
