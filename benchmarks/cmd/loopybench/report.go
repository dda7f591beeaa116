package main

import (
	"fmt"
	"time"
)

// Report is everything one invocation measured, in the shape the JSON output has.
type Report struct {
	Machine  Machine  `json:"machine"`
	Settings Settings `json:"settings"`
	Rows     []Row    `json:"rows"`
	// Interrupted says how far a run got that a signal (a timeout's SIGTERM) cut short; the
	// rows it measured are all there.
	Interrupted string `json:"interrupted,omitempty"`
}

// Settings are the flags that shaped the numbers.
type Settings struct {
	Duration   string  `json:"duration"` // per run of each side
	Runs       int     `json:"runs"`
	Capacities []int   `json:"capacities"`
	Shapes     [][]int `json:"seed_shapes"`
	Rate       int     `json:"latency_rate"`
	Filter     string  `json:"topology_filter"`
	Mode       string  `json:"mode"`       // how flow ran the loopyring side's stages
	Spin       string  `json:"spin"`       // flow stages' spin ("default": flow's)
	SpinCores  int     `json:"spin_cores"` // stages that could spin at once; -1: the spare cores
}

func settingsOf(o options) Settings {
	return Settings{
		Duration:   o.duration.String(),
		Runs:       o.runs,
		Capacities: o.capacities,
		Shapes:     o.shapes,
		Rate:       o.rate,
		Filter:     o.filter.String(),
		Mode:       o.mode.String(),
		Spin:       spinString(o.spin),
		SpinCores:  o.spinCores,
	}
}

func spinString(d time.Duration) string {
	if d == 0 {
		return "default"
	}
	return d.String()
}

// Row is one topology (or latency test) at one capacity and shape, both sides.
type Row struct {
	Kind     string     `json:"kind"` // "throughput" or "latency"
	Topology string     `json:"topology"`
	About    string     `json:"about"`
	Shape    string     `json:"shape,omitempty"` // the seed's stages per level: 1→2→4→2
	Capacity int        `json:"capacity"`
	Loopy    SideResult `json:"loopyring"`
	Chan     SideResult `json:"chan"`
	// Ratio is how many times better loopyring did: throughput over the channels', or for
	// latency rows the channels' p99 over loopyring's.
	Ratio float64 `json:"ratio"`
}

// Label names the row in tables: the topology, with the seed's shape.
func (r Row) Label() string {
	if r.Shape != "" {
		return r.Topology + " " + r.Shape
	}
	return r.Topology
}

// SideResult is one side's medians over the runs. Latency rows have entries per second too:
// round trips per second for ping-pong, the achieved input rate for the paced pipeline.
type SideResult struct {
	EntriesPerSec  float64   `json:"entries_per_s"`
	AllocsPerEntry float64   `json:"allocs_per_entry"`
	CPUPerEntryNs  float64   `json:"cpu_ns_per_entry"`
	P50Ns          float64   `json:"p50_ns,omitempty"`
	P99Ns          float64   `json:"p99_ns,omitempty"`
	P999Ns         float64   `json:"p999_ns,omitempty"`
	MaxNs          float64   `json:"max_ns,omitempty"`
	Runs           []float64 `json:"runs_entries_per_s"` // every run, for spread
	// Percentiles is the latency distribution, the median over the runs of each point of
	// the benchmarks package's percentile grid, for the plots; latency rows only.
	Percentiles []PercentileNs `json:"percentiles,omitempty"`
}

// PercentileNs is one point of a latency distribution: Percent of the entries took at most Ns.
type PercentileNs struct {
	Percent float64 `json:"percent"`
	Ns      float64 `json:"ns"`
}

// ns prints nanoseconds with three significant digits: 592ns, 28.4µs, 1.14ms.
func ns(f float64) string {
	d := time.Duration(f)
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.3gs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	case d >= time.Microsecond:
		return fmt.Sprintf("%.3gµs", float64(d)/1e3)
	}
	return fmt.Sprintf("%dns", d.Nanoseconds())
}
