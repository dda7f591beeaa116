package kafka_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test closes its clients, graphs and fake clusters: nothing they started outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
