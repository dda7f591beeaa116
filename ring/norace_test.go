//go:build !race

package ring_test

// raceEnabled: see race_test.go.
const raceEnabled = false
