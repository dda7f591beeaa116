package main

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	_ "image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/loopyring/loopyring/benchmarks/internal/bench"
)

// fixedReport is a report with every kind of chart's data: two capacities, two seed shapes
// and two latency tests, with made-up but plausible figures.
func fixedReport() Report {
	rep := Report{
		Machine:  Machine{CPU: "Test CPU", Cores: 8, GOMAXPROCS: 8, GoVersion: "go1.27.3", OS: "linux/amd64", Placement: "spread", Date: "2026-01-02T03:04:05Z"},
		Settings: Settings{Duration: "1s", Runs: 3, Capacities: []int{1024, 8192}, Shapes: [][]int{{1, 2, 1}, {4, 8, 4}}, Rate: 5000, Mode: "auto"},
	}
	curve := func(base float64, n int) []PercentileNs {
		var c []PercentileNs
		for k := range n {
			c = append(c, PercentileNs{Percent: bench.PercentileGrid(k), Ns: base * float64(1+k*k)})
		}
		return c
	}
	for i, c := range rep.Settings.Capacities {
		f := float64(i + 1)
		side := func(rate float64) SideResult {
			return SideResult{EntriesPerSec: rate * f, Runs: []float64{rate, rate * f, rate * f}}
		}
		for _, tp := range []struct {
			name, shape  string
			loopy, chans float64
		}{{"unicast", "", 40e6, 9e6}, {"pipeline", "", 20e6, 5e6}, {"seed", "1→1→2→1", 9e6, 4e6}, {"seed", "1→4→8→4", 3e6, 1e6}} {
			r := Row{Kind: "throughput", Topology: tp.name, About: "about " + tp.name, Shape: tp.shape, Capacity: c, Loopy: side(tp.loopy), Chan: side(tp.chans)}
			r.Ratio = ratio(r)
			rep.Rows = append(rep.Rows, r)
		}
		for _, lt := range []string{"pingpong", "pipeline-latency"} {
			r := Row{Kind: "latency", Topology: lt, About: "about " + lt, Capacity: c}
			r.Loopy = SideResult{EntriesPerSec: 1e6, P50Ns: 400, P99Ns: 2000, P999Ns: 9000, MaxNs: 50000, Percentiles: curve(300, 70)}
			r.Chan = SideResult{EntriesPerSec: 1e6, P50Ns: 500, P99Ns: 3000, P999Ns: 20000, MaxNs: 90000, Percentiles: curve(450, 61)}
			r.Ratio = ratio(r)
			rep.Rows = append(rep.Rows, r)
		}
	}
	return rep
}

// lowDPI draws the test's charts at half the resolution, a quarter of the pixels.
func lowDPI(t *testing.T) {
	old := dpi
	dpi = 72
	t.Cleanup(func() { dpi = old })
}

// checkPNG decodes a chart and checks that it is a picture, not a blank or a sliver: large
// enough, with many colors (antialiased text and lines), and with enough pixels of each
// side's color to be its bars or lines.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, format, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if format != "png" || b.Dx() < 6*dpi || b.Dy() < 3*dpi {
		t.Errorf("%s: a %s of %v, want a PNG of at least 6×3 inches at %d dpi", path, format, b, dpi)
	}
	// Pixels read straight from an RGBA copy: img.At per pixel takes seconds under -race.
	rgba := image.NewRGBA(b)
	draw.Draw(rgba, b, img, b.Min, draw.Src)
	colors := map[color.RGBA]int{}
	for i := 0; i+3 < len(rgba.Pix); i += 4 {
		colors[color.RGBA{R: rgba.Pix[i], G: rgba.Pix[i+1], B: rgba.Pix[i+2], A: rgba.Pix[i+3]}]++
	}
	if len(colors) < 20 {
		t.Errorf("%s: %d colors, want text and lines", path, len(colors))
	}
	for name, c := range map[string]color.RGBA{"loopyring": loopyColor, "channels": chanColor} {
		if n := colors[c]; n < 50 {
			t.Errorf("%s: %d pixels of the %s color, want its bars or lines", path, n, name)
		}
	}
}

func TestPlotReport(t *testing.T) {
	lowDPI(t)
	dir := t.TempDir()
	files, err := plotReport(dir, fixedReport())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
		checkPNG(t, f)
	}
	want := []string{"throughput-1024.png", "throughput-8192.png", "width.png", "capacity.png", "latency-1024.png", "latency-8192.png"}
	if !slices.Equal(names, want) {
		t.Fatalf("plotted %q, want %q", names, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != len(want) {
		t.Fatalf("%d files in the directory (%v), want %d", len(entries), err, len(want))
	}
}

// A sweep of one point is no line: a report of one capacity and one shape has no width
// or capacity chart.
func TestPlotSkipsSweepsOfOnePoint(t *testing.T) {
	lowDPI(t)
	rep := fixedReport()
	rep.Rows = slices.DeleteFunc(rep.Rows, func(r Row) bool { return r.Capacity != 8192 || r.Shape == "1→4→8→4" })
	files, err := plotReport(t.TempDir(), rep)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	if want := []string{"throughput-8192.png", "latency-8192.png"}; !slices.Equal(names, want) {
		t.Fatalf("plotted %q, want %q", names, want)
	}
}

// -from prints a report written earlier as the run would have, and plots it.
func TestFromReadsAReportBack(t *testing.T) {
	lowDPI(t)
	rep := fixedReport()
	rep.Rows = slices.DeleteFunc(rep.Rows, func(r Row) bool { return r.Capacity != 8192 }) // fewer charts to draw
	var js, wantCSV bytes.Buffer
	if err := write(&js, "json", rep); err != nil {
		t.Fatal(err)
	}
	if err := writeCSV(&wantCSV, rep); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, js.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, progress bytes.Buffer
	plots := filepath.Join(dir, "plots")
	if err := run([]string{"-from", path, "-format", "csv", "-plot", plots}, &out, &progress); err != nil {
		t.Fatal(err)
	}
	if out.String() != wantCSV.String() {
		t.Errorf("-from printed\n%s\nwant\n%s", out.String(), wantCSV.String())
	}
	if n := strings.Count(progress.String(), "plot: "); n != 3 {
		t.Errorf("-from listed %d plots, want 3 (throughput, width, latency):\n%s", n, progress.String())
	}
	checkPNG(t, filepath.Join(plots, "width.png"))

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-from", path, "-duration", "1s"}, "-duration: not with -from"},
		{[]string{"-from", path, "-capacity", "1024"}, "-capacity: not with -from"},
		{[]string{"-from", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"-from", filepath.Join(dir, "plots", "width.png")}, "width.png"},
	} {
		if err := run(tc.args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %q: err %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
}

// A real run, tiny, plots what it measured, latency distributions included.
func TestRunPlots(t *testing.T) {
	lowDPI(t)
	dir := t.TempDir()
	runTiny(t, "-topology", "^unicast$|^pingpong$", "-plot", dir)
	for _, name := range []string{"throughput-8192.png", "latency-8192.png"} {
		checkPNG(t, filepath.Join(dir, name))
	}
}

func TestMedianCurve(t *testing.T) {
	run := func(values ...int64) bench.Latency {
		var l bench.Latency
		for k, v := range values {
			l.Percentiles = append(l.Percentiles, bench.Percentile{Percent: bench.PercentileGrid(k), Value: time.Duration(v)})
		}
		return l
	}
	got := medianCurve([]bench.Latency{run(10, 20, 30, 40), run(30, 30, 60), run(20, 25, 35, 90)})
	want := []PercentileNs{{bench.PercentileGrid(0), 20}, {bench.PercentileGrid(1), 25}, {bench.PercentileGrid(2), 35}}
	if len(got) != len(want) {
		t.Fatalf("medianCurve = %v, want %v: only the points every run resolved", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("point %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if c := medianCurve(nil); len(c) != 0 {
		t.Errorf("medianCurve(nil) = %v", c)
	}
}

func TestTicks(t *testing.T) {
	labels := func(ts []plot.Tick) []string {
		var l []string
		for _, tk := range ts {
			if tk.Label != "" {
				l = append(l, tk.Label)
			}
		}
		return l
	}
	for _, tc := range []struct {
		got  []string
		want []string
	}{
		{labels(linearTicks{label: human}.Ticks(0, 27e6)), []string{"0", "5M", "10M", "15M", "20M", "25M"}},
		{labels(linearTicks{label: human}.Ticks(0, 40e6)), []string{"0", "5M", "10M", "15M", "20M", "25M", "30M", "35M", "40M"}},
		{labels(linearTicks{label: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }}.Ticks(0, 1.3)), []string{"0", "0.2", "0.4", "0.6", "0.8", "1", "1.2"}},
		{labels(linearTicks{label: human}.Ticks(0, 7.5e6)), []string{"0", "1M", "2M", "3M", "4M", "5M", "6M", "7M"}},
		{labels(latencyTicks{}.Ticks(2, 5)), []string{"100ns", "1µs", "10µs", "100µs"}},
		{labels(ninesTicks{}.Ticks(0, 4)), []string{"0%", "90%", "99%", "99.9%", "99.99%"}},
		{[]string{ninesLabel(6)}, []string{"99.9999%"}},
	} {
		if !slices.Equal(tc.got, tc.want) {
			t.Errorf("labels %q, want %q", tc.got, tc.want)
		}
	}
	ts := latencyTicks{}.Ticks(2.5, 3)
	if len(ts) == 0 || ts[0].Value < 2.5 || ts[len(ts)-1].Value > 3 {
		t.Errorf("latencyTicks(2.5, 3) = %v: want only ticks within the axis", ts)
	}
}
