// Package testrun holds what the examples' tests share: a TestMain that checks for leaked
// goroutines, and the scaling of stress tests under -short.
package testrun

import (
	"testing"

	"go.uber.org/goleak"
)

// Main runs the package's tests and fails them if a goroutine outlives them.
func Main(m *testing.M) { goleak.VerifyTestMain(m) }

// Scale returns full under the default run and small under -short.
func Scale(full, small int) int {
	if testing.Short() {
		return small
	}
	return full
}
