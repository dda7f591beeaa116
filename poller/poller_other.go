//go:build !linux && !darwin && !freebsd && !dragonfly && !netbsd && !openbsd

package poller

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// supported: see Supported.
const supported = false

// There is neither epoll nor kqueue here: New fails with errors.ErrUnsupported,
// so no Loop exists and the functions below only keep the shared code
// compiling.

type pollState struct{}

type wakeState struct{}

func (l *Loop) openPoller() error {
	return fmt.Errorf("poller: no epoll or kqueue on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (l *Loop) closePoller() error { return nil }

func (l *Loop) pollRegister(fd int, old, ev Events) error { return errors.ErrUnsupported }

const waitName = "wait"

func (l *Loop) waitOnce(timeout time.Duration) (int, error) { return 0, errors.ErrUnsupported }

func (l *Loop) collect(n int) {}

func (l *Loop) openWaker() error { return errors.ErrUnsupported }

func (l *Loop) writeWaker() error { return errors.ErrUnsupported }

func (l *Loop) closeWaker() error { return nil }

func isClosedFD(err error) bool { return false }
