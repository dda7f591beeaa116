package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestParseNsPerOp(t *testing.T) {
	out := `goos: linux
BenchmarkSPSC/batch=16-2   	 100	         5.912 ns/op	        27.32 entries/batch	       0 B/op	       0 allocs/op
BenchmarkSPSC/batch=1-2    	 100	        24.5 ns/op	         2.0 entries/batch
BenchmarkSPSC/chan         	 100	        61 ns/op
PASS`
	for bench, want := range map[string]float64{"SPSC/batch=1": 24.5, "SPSC/batch=16": 5.912, "SPSC/chan": 61} {
		got, err := parseNsPerOp(out, bench)
		if err != nil || got != want {
			t.Errorf("parseNsPerOp(%s) = %v, %v; want %v", bench, got, err, want)
		}
	}
	if _, err := parseNsPerOp(out, "MPSC/batch=1"); err == nil {
		t.Error("a benchmark missing from the output parsed")
	}
	if _, err := parseNsPerOp("BenchmarkX-2 1 NaNx ns/op", "X"); err == nil {
		t.Error("a malformed ns/op parsed")
	}
}

func TestAnchored(t *testing.T) {
	// go test matches each slash-separated level of -bench on its own.
	pattern := "^Benchmark" + anchored("SPSC/batch=1") + "$"
	levels := strings.Split(pattern, "/")
	match := func(name string) bool {
		parts := strings.Split(name, "/")
		if len(parts) != len(levels) {
			return false
		}
		for i, p := range parts {
			if !regexp.MustCompile(levels[i]).MatchString(p) {
				return false
			}
		}
		return true
	}
	if !match("BenchmarkSPSC/batch=1") {
		t.Errorf("%q does not match its own benchmark", pattern)
	}
	for _, other := range []string{"BenchmarkSPSC/batch=16", "BenchmarkSPSCx/batch=1", "BenchmarkMPSC/batch=1"} {
		if match(other) {
			t.Errorf("%q matches %s", pattern, other)
		}
	}
}

func TestReportGroups(t *testing.T) {
	ns := time.Nanosecond
	samples := []sample{
		{"SPSC/batch=1", 100 * ns, 120 * ns, 20, 60},  // fast: 3×
		{"SPSC/batch=1", 110 * ns, 140 * ns, 25, 100}, // fast: 4×
		{"SPSC/batch=1", 100 * ns, 500 * ns, 50, 50},  // slow after: 1×
		{"SPSC/batch=1", 0, 100 * ns, 10, 90},         // not measured: other
		{"Multicast/ring", 500 * ns, 520 * ns, 100, 300},
	}
	var b strings.Builder
	report(&b, samples, 1.5)
	out := b.String()
	for _, want := range []string{
		"fastest cache line round trip seen: 100ns; fast pairs: both round trips ≤ 150ns",
		"| SPSC/batch=1 | 3.50× (2) | 5.00× (2) |",
		"| Multicast/ring | - | 3.00× (1) |",
		"| MPSC/batch=1 | - | - |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		rounds int
		bt     time.Duration
		near   float64
	}{{0, time.Second, 1.5}, {1, 0, 1.5}, {1, time.Second, 0.5}} {
		if err := run(c.rounds, c.bt, c.near, false, &strings.Builder{}, &strings.Builder{}); err == nil {
			t.Errorf("run(%d, %v, %v) accepted", c.rounds, c.bt, c.near)
		}
	}
}
