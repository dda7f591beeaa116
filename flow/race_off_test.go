//go:build !race

package flow_test

// raceEnabled: see race_on_test.go.
const raceEnabled = false
