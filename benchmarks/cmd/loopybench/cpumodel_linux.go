package main

import (
	"bufio"
	"os"
	"strings"
)

// cpuModel returns the first model name in /proc/cpuinfo: "model name" on x86, and on arm64
// kernels that print none, the "Hardware" or "CPU part" line.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	fallback := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "model name":
			return val
		case "Hardware", "CPU part":
			if fallback == "" {
				fallback = key + " " + val
			}
		}
	}
	return fallback
}
