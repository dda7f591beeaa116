//go:build darwin || freebsd

package main

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// cpuModel asks sysctl: machdep.cpu.brand_string on macOS, hw.model on FreeBSD (and on
// Apple silicon, where the brand string is also set).
func cpuModel() string {
	names := []string{"hw.model"}
	if runtime.GOOS == "darwin" {
		names = []string{"machdep.cpu.brand_string", "hw.model"}
	}
	for _, name := range names {
		if s, err := unix.Sysctl(name); err == nil && s != "" {
			return s
		}
	}
	return ""
}
