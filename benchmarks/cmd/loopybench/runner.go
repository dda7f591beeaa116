package main

import (
	"fmt"
	"io"
	"time"

	"github.com/loopyring/loopyring/benchmarks/internal/bench"
)

// maxEntries bounds one run, however fast a side is.
const maxEntries = 1 << 30

// runner runs the suite and reports its progress, one line per measurement, on progress.
type runner struct {
	o        options
	progress io.Writer
	stop     <-chan struct{} // closed to end the run after the row being measured
	step     int             // measurements done
	steps    int             // measurements planned
}

// job is one row of the report: a throughput topology at one capacity and shape, or a
// latency test at one capacity.
type job struct {
	tp    bench.Topology
	lt    bench.LatencyTest
	cfg   bench.Config
	shape string
}

func (j job) latency() bool { return j.lt.Name != "" }

func (j job) name() string {
	if j.latency() {
		return j.lt.Name
	}
	return j.tp.Name
}

func (j job) about() string {
	if j.latency() {
		return j.lt.About
	}
	return j.tp.About
}

// plan lists the rows to run: every matching throughput topology at every capacity (the
// seed at every shape too), then the latency tests.
func (r *runner) plan() []job {
	var jobs []job
	for _, capacity := range r.o.capacities {
		base := bench.Config{Capacity: capacity, Placement: r.o.placement, Rate: r.o.rate, Mode: r.o.mode, Spin: r.o.spin}
		for _, tp := range bench.Topologies() {
			if !r.o.filter.MatchString(tp.Name) {
				continue
			}
			if tp.Name != "seed" {
				jobs = append(jobs, job{tp: tp, cfg: base})
				continue
			}
			for _, shape := range r.o.shapes {
				cfg := base
				cfg.Widths = shape
				jobs = append(jobs, job{tp: tp, cfg: cfg, shape: shapeString(shape)})
			}
		}
		for _, lt := range bench.LatencyTests() {
			if r.o.filter.MatchString(lt.Name) {
				jobs = append(jobs, job{lt: lt, cfg: base})
			}
		}
	}
	return jobs
}

func (r *runner) run() (Report, error) {
	rep := Report{Machine: describeMachine(r.o.placement), Settings: settingsOf(r.o)}
	jobs := r.plan()
	if len(jobs) == 0 {
		return rep, fmt.Errorf("-topology %q matches nothing", r.o.filter)
	}
	r.steps = len(jobs) * len(bench.Sides) * r.o.runs
	for i, j := range jobs {
		select {
		case <-r.stop:
			// A row is not abandoned half measured: a run's sides are alternated so that
			// they compare, and one side alone would not.
			rep.Interrupted = fmt.Sprintf("stopped by a signal after %d of %d rows", i, len(jobs))
			fmt.Fprintln(r.progress, "loopybench:", rep.Interrupted)
			return rep, nil
		default:
		}
		row, err := r.measure(j)
		if err != nil {
			return rep, err
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// measure runs both sides of one job, alternating them run by run so that a change in the
// host's load hits both alike, and keeps the median of each figure.
func (r *runner) measure(j job) (Row, error) {
	row := Row{Kind: "throughput", Topology: j.name(), About: j.about(), Shape: j.shape, Capacity: j.cfg.Capacity}
	if j.latency() {
		row.Kind = "latency"
	}
	n := make([]int, len(bench.Sides))
	for i, side := range bench.Sides {
		var err error
		if n[i], err = r.calibrate(j, side); err != nil {
			return row, err
		}
	}
	samples := make([][]bench.Latency, len(bench.Sides))
	for run := range r.o.runs {
		for i, side := range bench.Sides {
			cfg := j.cfg
			cfg.N = n[i]
			lat, err := r.once(j, side, cfg)
			if err != nil {
				return row, err
			}
			samples[i] = append(samples[i], lat)
			r.step++
			fmt.Fprintf(r.progress, "[%d/%d] %-16s %-10s cap=%-6d run %d/%d %-9s %s\n",
				r.step, r.steps, j.name(), j.shape, j.cfg.Capacity, run+1, r.o.runs, side, describe(j, lat))
		}
	}
	row.Loopy, row.Chan = summarize(samples[0], j.latency()), summarize(samples[1], j.latency())
	row.Ratio = ratio(row)
	return row, nil
}

// once runs one side once. A throughput run is reported as a Latency with only its Result.
func (r *runner) once(j job, side bench.Side, cfg bench.Config) (bench.Latency, error) {
	if j.latency() {
		return j.lt.Run(side, cfg)
	}
	res, err := j.tp.Run(side, cfg)
	return bench.Latency{Result: res}, err
}

// calibrate finds how many entries make one run of side last about -duration, as testing.B
// does: it grows a probe run until it lasts a fifth of that, then scales. A paced latency
// test needs no probe: its length is its rate.
func (r *runner) calibrate(j job, side bench.Side) (int, error) {
	if j.lt.Name == "pipeline-latency" {
		return max(50, int(float64(r.o.rate)*r.o.duration.Seconds())), nil
	}
	n := 1 << 12
	for {
		cfg := j.cfg
		cfg.N = n
		lat, err := r.once(j, side, cfg)
		if err != nil {
			return 0, err
		}
		el := lat.Result.Elapsed
		if el >= r.o.duration/5 || n >= maxEntries {
			return clampEntries(float64(n) * float64(r.o.duration) / float64(max(el, time.Microsecond))), nil
		}
		if el < r.o.duration/100 {
			n *= 10
		} else {
			n *= 3
		}
	}
}

func clampEntries(f float64) int { return int(min(max(f, 1), maxEntries)) }

func describe(j job, lat bench.Latency) string {
	if j.latency() {
		return fmt.Sprintf("p50 %v p99 %v p99.9 %v max %v", lat.P50, lat.P99, lat.P999, lat.Max)
	}
	return fmt.Sprintf("%s entries/s", human(lat.Result.PerSecond()))
}

// summarize takes the median of each figure over the runs of one side; the maximum
// latency is the largest seen, since a worst case is not averaged away.
func summarize(runs []bench.Latency, latency bool) SideResult {
	med := func(f func(bench.Latency) float64) float64 {
		v := make([]float64, len(runs))
		for i, l := range runs {
			v[i] = f(l)
		}
		return bench.Median(v)
	}
	s := SideResult{
		EntriesPerSec:  med(func(l bench.Latency) float64 { return l.Result.PerSecond() }),
		AllocsPerEntry: med(func(l bench.Latency) float64 { return l.Result.AllocsPerEntry() }),
		CPUPerEntryNs:  med(func(l bench.Latency) float64 { return float64(l.Result.CPUPerEntry()) }),
	}
	for _, l := range runs {
		s.Runs = append(s.Runs, l.Result.PerSecond())
	}
	if latency {
		s.P50Ns = med(func(l bench.Latency) float64 { return float64(l.P50) })
		s.P99Ns = med(func(l bench.Latency) float64 { return float64(l.P99) })
		s.P999Ns = med(func(l bench.Latency) float64 { return float64(l.P999) })
		for _, l := range runs {
			s.MaxNs = max(s.MaxNs, float64(l.Max))
		}
		s.Percentiles = medianCurve(runs)
	}
	return s
}

// medianCurve is the median of the runs' distributions, point by point, over the grid
// points every run resolved. The median of curves that rise is a curve that rises, and at
// 99% and 99.9% it is the table's P99 and P99.9.
func medianCurve(runs []bench.Latency) []PercentileNs {
	n := -1
	for _, l := range runs {
		if n < 0 || len(l.Percentiles) < n {
			n = len(l.Percentiles)
		}
	}
	var curve []PercentileNs
	v := make([]float64, len(runs))
	for k := range max(n, 0) {
		for i, l := range runs {
			v[i] = float64(l.Percentiles[k].Value)
		}
		curve = append(curve, PercentileNs{Percent: runs[0].Percentiles[k].Percent, Ns: bench.Median(v)})
	}
	return curve
}

// ratio is how many times better loopyring did: its throughput over the channels', or for
// latency the channels' p99 over its own.
func ratio(row Row) float64 {
	if row.Kind == "latency" {
		if row.Loopy.P99Ns == 0 {
			return 0
		}
		return row.Chan.P99Ns / row.Loopy.P99Ns
	}
	if row.Chan.EntriesPerSec == 0 {
		return 0
	}
	return row.Loopy.EntriesPerSec / row.Chan.EntriesPerSec
}
