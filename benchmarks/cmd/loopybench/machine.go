package main

import (
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/benchmarks/internal/bench"
)

// Machine describes where a report was measured: numbers from one machine say little about
// another, so every report carries this.
type Machine struct {
	CPU        string `json:"cpu"`        // the CPU model, as the OS names it
	Cores      int    `json:"cores"`      // logical CPUs this process may use
	Online     int    `json:"online"`     // logical CPUs online in the machine
	GOMAXPROCS int    `json:"gomaxprocs"` //
	GoVersion  string `json:"go_version"` //
	OS         string `json:"os"`         // GOOS/GOARCH
	Placement  string `json:"placement"`  // CPU placement of the loopyring side
	LoadAvg    string `json:"load_avg"`   // 1, 5 and 15 minute load averages at the start, where known
	Date       string `json:"date"`       // when the run began, UTC
	// LineRoundTripNs is the median time for one cache line to go from one spinning
	// thread to another and back, measured at the start (see bench.LineRoundTrip); 0 if it
	// could not be measured.
	LineRoundTripNs float64 `json:"line_round_trip_ns"`
}

func describeMachine(placement affinity.Policy) Machine {
	m := Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS + "/" + runtime.GOARCH,
		Placement:  placement.String(),
		LoadAvg:    loadAvg(),
		Date:       time.Now().UTC().Format(time.RFC3339),
	}
	if online, err := affinity.Online(); err == nil {
		m.Online = len(online)
	}
	if m.CPU == "" {
		m.CPU = "unknown"
	}
	m.LineRoundTripNs = float64(bench.LineRoundTrip(20_000, time.Second).Nanoseconds())
	return m
}

// loadAvg reads /proc/loadavg where there is one: a busy host is the first suspect when
// numbers disagree between runs.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
