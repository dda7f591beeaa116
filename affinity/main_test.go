package affinity

import (
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
