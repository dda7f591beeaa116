//go:build !(linux || darwin || freebsd)

package main

// cpuModel is unknown here; the report says so.
func cpuModel() string { return "" }
