//go:build !race

package flow_test

// raceEnabled: see reliability_race_test.go.
const raceEnabled = false
