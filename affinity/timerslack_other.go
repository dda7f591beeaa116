//go:build !linux

package affinity

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

func setTimerSlack(time.Duration) error {
	return fmt.Errorf("affinity: no timer slack on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
