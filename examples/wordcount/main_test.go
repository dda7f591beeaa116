package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scale returns full under the default run and small under -short.
func scale(full, small int) int {
	if testing.Short() {
		return small
	}
	return full
}
