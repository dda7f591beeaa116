package main

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/loopyring/loopyring/benchmarks/internal/bench"
)

// latencyFigures draws, per capacity, each latency test's distribution on both sides as
// HDR percentile curves: the latency (log scale) under which a percentile of the entries
// fell, against that percentile on a "nines" axis, where 90%, 99% and 99.9% are evenly
// spaced so that the tail gets as much room as the body: latency-<capacity>.png.
func latencyFigures(rep Report) ([]namedFigure, error) {
	var figs []namedFigure
	for _, c := range capacities(rep.Rows) {
		var row []*plot.Plot
		panel := 5.5 * vg.Inch
		for _, r := range rep.Rows {
			if r.Kind != "latency" || r.Capacity != c || len(r.Loopy.Percentiles) == 0 || len(r.Chan.Percentiles) == 0 {
				continue
			}
			p, err := latencyPlot(r)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Topology, err)
			}
			row = append(row, p)
			// Each nine needs room for a label as long as 99.99999%.
			panel = max(panel, 1.4*vg.Inch+0.8*vg.Inch*vg.Length(p.X.Max))
		}
		if len(row) == 0 {
			continue
		}
		figs = append(figs, namedFigure{fmt.Sprintf("latency-%d", c), figure{
			title:    fmt.Sprintf("Latency distributions, ring capacity and channel buffer %d", c),
			subtitle: subtitle(rep),
			panels:   [][]*plot.Plot{row},
			w:        max(6*vg.Inch, panel*vg.Length(len(row))),
			h:        5.5 * vg.Inch,
		}})
	}
	return figs, nil
}

func latencyPlot(r Row) (*plot.Plot, error) {
	p := newPlot(r.Topology+"\n"+r.About, "percentile (log scale of nines)", "latency (log scale; less is better)")
	addGrid(p)
	lo, hi, right := math.Inf(1), 0.0, 0.0
	var lines []sweepLine
	for _, s := range []struct {
		name string
		res  SideResult
		line sweepLine
	}{
		{"loopyring", r.Loopy, sweepLine{color: loopyColor}},
		{"channels", r.Chan, sweepLine{color: chanColor}},
	} {
		l := s.line
		l.name = fmt.Sprintf("%s: p50 %s, p99 %s, p99.9 %s, max %s", s.name, ns(s.res.P50Ns), ns(s.res.P99Ns), ns(s.res.P999Ns), ns(s.res.MaxNs))
		for _, pt := range s.res.Percentiles {
			if pt.Ns <= 0 {
				continue // a log axis has no room for it; the histograms record at least 1 ns
			}
			x, y := bench.Nines(pt.Percent), math.Log10(pt.Ns)
			l.xys = append(l.xys, plotter.XY{X: x, Y: y})
			lo, hi, right = min(lo, y), max(hi, y), max(right, x)
		}
		if len(l.xys) == 0 {
			return nil, fmt.Errorf("%s: no percentile above 0", s.name)
		}
		lines = append(lines, l)
	}
	for _, l := range lines {
		line, err := plotter.NewLine(l.xys)
		if err != nil {
			return nil, err
		}
		line.Color, line.Width = l.color, vg.Points(2)
		p.Add(line)
		p.Legend.Add(l.name, line)
	}
	p.Legend.TextStyle.Font.Size = 8
	p.X.Min, p.X.Max = 0, math.Max(1, math.Ceil(right*2)/2) // to the next half nine
	p.X.Tick.Marker = ninesTicks{}
	// Whole decades at both ends, so that the axis always has labelled ticks, and one more
	// above for the legend.
	p.Y.Min, p.Y.Max = math.Floor(lo), math.Ceil(hi)+1
	p.Y.Tick.Marker = latencyTicks{}
	return p, nil
}

// ninesTicks labels a nines axis: 0%, 90%, 99%, 99.9% at 0, 1, 2, 3, with minor ticks at
// 50%, 95%, 99.5% and so on.
type ninesTicks struct{}

func (ninesTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for k := math.Ceil(lo); k <= hi; k++ {
		ts = append(ts, plot.Tick{Value: k, Label: ninesLabel(int(k))})
		if half := k + bench.Nines(50); half <= hi {
			ts = append(ts, plot.Tick{Value: half})
		}
	}
	return ts
}

// ninesLabel names the percentile with k nines: 0%, 90%, 99%, 99.9%.
func ninesLabel(k int) string {
	switch {
	case k <= 0:
		return "0%"
	case k == 1:
		return "90%"
	}
	return "99" + strings.TrimSuffix("."+strings.Repeat("9", k-2), ".") + "%"
}

// latencyTicks labels a log10 axis of nanoseconds as durations: 100ns, 1µs, 10µs, with
// minor ticks at 2 to 9 times each.
type latencyTicks struct{}

func (latencyTicks) Ticks(lo, hi float64) []plot.Tick {
	var ts []plot.Tick
	for k := math.Floor(lo); k <= hi; k++ {
		if k >= lo {
			ts = append(ts, plot.Tick{Value: k, Label: ns(math.Pow10(int(k)))})
		}
		for m := 2.0; m < 10; m++ {
			if v := k + math.Log10(m); v >= lo && v <= hi {
				ts = append(ts, plot.Tick{Value: v})
			}
		}
	}
	return ts
}
