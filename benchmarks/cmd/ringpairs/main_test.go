package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
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
		if err := run(config{rounds: c.rounds, benchtime: c.bt, near: c.near}, &strings.Builder{}, &strings.Builder{}); err == nil {
			t.Errorf("run(%d, %v, %v) accepted", c.rounds, c.bt, c.near)
		}
	}
	missing := filepath.Join(t.TempDir(), "ring.test")
	if err := run(config{bin: missing, rounds: 1, benchtime: time.Millisecond, near: 3}, &strings.Builder{}, &strings.Builder{}); err == nil || !strings.Contains(err.Error(), "-bin") {
		t.Errorf("a missing -bin: err %v, want it named", err)
	}
}

// With -bin, ringpairs runs the binary it is given and builds nothing: here a script that
// answers every -test.bench with the lines a ring test binary would print, the ring 4
// times as fast as the channels in SPSC and twice in the others.
func TestRunPrebuiltBinary(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in binary is a shell script")
	}
	bin := filepath.Join(t.TempDir(), "ring.test")
	script := `#!/bin/sh
cat <<'END'
BenchmarkSPSC/batch=1-2      100   10 ns/op
BenchmarkSPSC/batch=16-2     100   10 ns/op
BenchmarkSPSC/batch=256-2    100   10 ns/op
BenchmarkSPSC/chan-2         100   40 ns/op
BenchmarkMPSC/batch=1-2      100   10 ns/op
BenchmarkMPSC/batch=16-2     100   10 ns/op
BenchmarkMPSC/chan-2         100   20 ns/op
BenchmarkMulticast/ring-2    100   10 ns/op
BenchmarkMulticast/chan-2    100   20 ns/op
PASS
END
`
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := config{bin: bin, rounds: 2, benchtime: time.Millisecond, near: 3}
	// The machine seems fast in the first round and slow in the second, so both groups fill.
	trips := 0
	defer func(f func() time.Duration) { roundTrip = f }(roundTrip)
	roundTrip = func() time.Duration {
		trips++
		if trips <= 2*len(pairs) {
			return 100 * time.Nanosecond
		}
		return time.Microsecond
	}
	var out, progress strings.Builder
	if err := run(cfg, &out, &progress); err != nil {
		t.Fatalf("run: %v\n%s", err, progress.String())
	}
	if strings.Contains(progress.String(), "building") {
		t.Errorf("ringpairs built a binary although -bin gave one:\n%s", progress.String())
	}
	if trips != 2*2*len(pairs) {
		t.Errorf("%d round trips measured, want 2 per pair in each of 2 rounds", trips)
	}
	for _, want := range []string{"| SPSC/batch=1 | 4.00× (1) | 4.00× (1) |", "| Multicast/ring | 2.00× (1) | 2.00× (1) |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// A run stopped by a signal reports the pairs it measured, and says it was stopped.
func TestStopReportsWhatWasMeasured(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in binary is a shell script")
	}
	bin := filepath.Join(t.TempDir(), "ring.test")
	script := "#!/bin/sh\necho 'BenchmarkSPSC/batch=1-2 100 10 ns/op'\necho 'BenchmarkSPSC/chan-2 100 30 ns/op'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	defer func(f func() time.Duration) { roundTrip = f }(roundTrip)
	stop := make(chan struct{})
	trips := 0
	roundTrip = func() time.Duration {
		trips++
		if trips == 2 { // the first pair is measured: stop before the second
			close(stop)
		}
		return 100 * time.Nanosecond
	}
	var out strings.Builder
	if err := run(config{bin: bin, rounds: 3, benchtime: time.Millisecond, near: 3, stop: stop}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| SPSC/batch=1 | 3.00× (1) | - |", "interrupted** by a signal after 1 of 18 pairs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
