//go:build !(linux || darwin || freebsd)

package bench

import "time"

// processCPU reports 0, "unknown", where getrusage is not available; Result.CPU stays 0.
func processCPU() time.Duration { return 0 }
