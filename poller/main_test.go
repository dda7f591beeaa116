package poller

import (
	"errors"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// On js/wasm the runtime parks a goroutine of its own (runtime.handleEvent)
	// to receive calls from JavaScript; it is no leak of ours. With it ignored,
	// GOOS=js GOARCH=wasm go test runs the tests of a platform without epoll,
	// kqueue or thread affinity (the ErrUnsupported paths) under Node.
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("runtime.handleEvent"))
}

// newLoop opens a loop closed at the end of the test, skipping the test where
// the platform has no event loop.
func newLoop(tb testing.TB) *Loop {
	tb.Helper()
	l, err := New()
	if errors.Is(err, errors.ErrUnsupported) {
		tb.Skip(err)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := l.Close(); err != nil {
			tb.Error(err)
		}
	})
	return l
}

// scale returns n, or n/10 (at least 1) under -short.
func scale(n int) int {
	if testing.Short() {
		return max(n/10, 1)
	}
	return n
}
