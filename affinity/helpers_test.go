package affinity

import (
	"strings"
	"testing"
)

// checkErrorText fails the test unless err's message starts with prefix and
// contains every one of want.
func checkErrorText(t *testing.T, err error, prefix string, want []string) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) {
		t.Errorf("error %q lacks the prefix %q", msg, prefix)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}
