package main

import (
	"fmt"
	"image/color"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// throughputFigures draws, per capacity, both sides' entries per second for every
// throughput row as a pair of horizontal bars, with loopyring's ratio to the channels'
// at the end of each pair: throughput-<capacity>.png.
func throughputFigures(rep Report) ([]namedFigure, error) {
	var figs []namedFigure
	for _, c := range capacities(rep.Rows) {
		var rows []Row
		for _, r := range rep.Rows {
			if r.Kind == "throughput" && r.Capacity == c {
				rows = append(rows, r)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p, err := throughputPlot(rows)
		if err != nil {
			return nil, err
		}
		figs = append(figs, namedFigure{fmt.Sprintf("throughput-%d", c), figure{
			title:    fmt.Sprintf("Throughput per topology, ring capacity and channel buffer %d", c),
			subtitle: subtitle(rep),
			key:      sidesKey,
			panels:   [][]*plot.Plot{{p}},
			w:        9 * vg.Inch,
			h:        max(3*vg.Inch, 1.6*vg.Inch+vg.Length(len(rows))*0.55*vg.Inch),
		}})
	}
	return figs, nil
}

func throughputPlot(rows []Row) (*plot.Plot, error) {
	p := newPlot("", "entries per second (more is better)", "")
	grid := plotter.NewGrid()
	grid.Horizontal.Color = nil
	grid.Vertical.Color = gridColor
	p.Add(grid)
	// The first row is drawn at the top: NominalY counts from the bottom.
	rows = slices.Clone(rows)
	slices.Reverse(rows)
	var loopy, chans plotter.Values
	var names []string
	largest := 0.0
	for _, r := range rows {
		loopy = append(loopy, r.Loopy.EntriesPerSec)
		chans = append(chans, r.Chan.EntriesPerSec)
		names = append(names, r.Label())
		largest = max(largest, r.Loopy.EntriesPerSec, r.Chan.EntriesPerSec)
	}
	w := vg.Points(13)
	for _, s := range []struct {
		name   string
		values plotter.Values
		c      color.Color
		offset vg.Length
	}{{"loopyring", loopy, loopyColor, w / 2}, {"channels", chans, chanColor, -w / 2}} {
		bars, err := plotter.NewBarChart(s.values, w)
		if err != nil {
			return nil, fmt.Errorf("%s entries per second: %w", s.name, err)
		}
		bars.Horizontal = true
		bars.Offset = s.offset
		bars.LineStyle.Width = 0
		bars.Color = s.c
		p.Add(bars)
	}
	// The ratio sits right of the longer bar of each pair.
	var at plotter.XYs
	var ratios []string
	for i, r := range rows {
		at = append(at, plotter.XY{X: max(r.Loopy.EntriesPerSec, r.Chan.EntriesPerSec), Y: float64(i)})
		ratios = append(ratios, fmt.Sprintf("%.2f×", r.Ratio))
	}
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: at, Labels: ratios})
	if err != nil {
		return nil, err
	}
	labels.Offset = vg.Point{X: vg.Points(5), Y: -vg.Points(4)}
	for i := range labels.TextStyle {
		labels.TextStyle[i] = textStyle(10, noteColor)
	}
	p.Add(labels)
	p.NominalY(names...)
	rateAxis(&p.X, largest*1.08) // the ratio labels need the room
	return p, nil
}

// capacities lists the capacities of rows in the order they first appear.
func capacities(rows []Row) []int {
	var cs []int
	for _, r := range rows {
		if !slices.Contains(cs, r.Capacity) {
			cs = append(cs, r.Capacity)
		}
	}
	return cs
}
