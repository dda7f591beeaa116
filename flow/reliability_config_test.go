package flow_test

import (
	"strings"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

func TestMergeOfNothingPanics(t *testing.T) {
	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), "flow: Merge needs at least one stream") {
			t.Fatalf("Merge() recovered %v, want the package's misuse panic", v)
		}
	}()
	flow.Merge[int]()
}
