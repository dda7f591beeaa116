package jetstream_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test stops its graphs, closes its connections and shuts its servers down; nothing
// the connector starts (fetch goroutines and their requests, the publishers' reply
// subscriptions) may outlive them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
