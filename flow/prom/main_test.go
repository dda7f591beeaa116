package prom_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test stops its graphs, and scrapes start no goroutines that outlive them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
