package main

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sweepLine is one side's figures along a sweep: x is what was swept, y what was measured.
type sweepLine struct {
	name  string
	color color.Color
	dash  []vg.Length
	xys   plotter.XYs
}

// addLines draws lines with a mark at each measured point, and enters them in the plot's
// legend unless the figure's key names them.
func addLines(p *plot.Plot, lines []sweepLine, legend bool) error {
	for _, l := range lines {
		line, points, err := plotter.NewLinePoints(l.xys)
		if err != nil {
			return fmt.Errorf("%s: %w", l.name, err)
		}
		line.Color, line.Width, line.Dashes = l.color, vg.Points(1.8), l.dash
		points.Color, points.Radius, points.Shape = l.color, vg.Points(3), draw.CircleGlyph{}
		p.Add(line, points)
		if legend {
			p.Legend.Add(l.name, line, points)
		}
	}
	return nil
}

// addGrid puts a light grid behind whatever is added after it.
func addGrid(p *plot.Plot) {
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridColor, gridColor
	p.Add(g)
}

// widthFigures draws the seed sweep (-stages) when it has more than one shape: entries per
// second against the number of stages, and loopyring's ratio to the channels', one line
// per side and capacity, with the CPU count marked: width.png.
func widthFigures(rep Report) ([]namedFigure, error) {
	byCap := map[int][]Row{}
	var caps []int
	for _, r := range rep.Rows {
		if r.Kind != "throughput" || r.Topology != "seed" || r.Shape == "" {
			continue
		}
		if _, ok := byCap[r.Capacity]; !ok {
			caps = append(caps, r.Capacity)
		}
		byCap[r.Capacity] = append(byCap[r.Capacity], r)
	}
	caps = slices.DeleteFunc(caps, func(c int) bool { return len(byCap[c]) < 2 })
	if len(caps) == 0 {
		return nil, nil
	}
	rates := newPlot("Seed topology: throughput as the levels widen", "", "entries per second")
	ratios := newPlot("loopyring ÷ channels", "stages, source included (log scale; the label below is the shape)", "ratio (above 1: loopyring ahead)")
	addGrid(rates)
	addGrid(ratios)
	var rateLines, ratioLines []sweepLine
	var xs []float64
	largest, largestRatio := 0.0, 1.0
	for i, c := range caps {
		rows := slices.Clone(byCap[c])
		slices.SortStableFunc(rows, func(a, b Row) int { return stageCount(a.Shape) - stageCount(b.Shape) })
		suffix := ""
		if len(caps) > 1 {
			suffix = fmt.Sprintf(", capacity %d", c)
		}
		dash := dashes[i%len(dashes)]
		lr := sweepLine{name: "loopyring" + suffix, color: loopyColor, dash: dash}
		cr := sweepLine{name: "channels" + suffix, color: chanColor, dash: dash}
		ra := sweepLine{name: "ratio" + suffix, color: color.Black, dash: dash}
		for _, r := range rows {
			x := float64(stageCount(r.Shape))
			lx := math.Log10(x)
			lr.xys = append(lr.xys, plotter.XY{X: lx, Y: r.Loopy.EntriesPerSec})
			cr.xys = append(cr.xys, plotter.XY{X: lx, Y: r.Chan.EntriesPerSec})
			ra.xys = append(ra.xys, plotter.XY{X: lx, Y: r.Ratio})
			largest = max(largest, r.Loopy.EntriesPerSec, r.Chan.EntriesPerSec)
			largestRatio = max(largestRatio, r.Ratio)
			if !slices.Contains(xs, x) {
				xs = append(xs, x)
			}
		}
		rateLines = append(rateLines, lr, cr)
		ratioLines = append(ratioLines, ra)
	}
	if err := addLines(rates, rateLines, true); err != nil {
		return nil, err
	}
	if err := addLines(ratios, ratioLines, true); err != nil {
		return nil, err
	}
	// Two shapes can have as many stages (1→1→3 and 1→1→2→1): the label names both.
	shapes := map[float64][]string{}
	for _, c := range caps {
		for _, r := range byCap[c] {
			x := float64(stageCount(r.Shape))
			if !slices.Contains(shapes[x], r.Shape) {
				shapes[x] = append(shapes[x], r.Shape)
			}
		}
	}
	slices.Sort(xs)
	lo, hi := math.Log10(xs[0])-0.06, math.Log10(xs[len(xs)-1])+0.06
	for _, p := range []*plot.Plot{rates, ratios} {
		p.X.Min, p.X.Max = lo, hi
	}
	rates.X.Tick.Marker = logPointTicks(xs, func(x float64) string { return strconv.Itoa(int(x)) })
	ratios.X.Tick.Marker = logPointTicks(xs, func(x float64) string { return strconv.Itoa(int(x)) + "\n" + strings.Join(shapes[x], "\n") })
	// Headroom for the legends, a line per entry (the CPU mark's too), so that they sit
	// above the data.
	rateAxis(&rates.Y, largest*(1+0.07*float64(len(rateLines)+1)))
	ratios.Y.Min, ratios.Y.Max = 0, largestRatio*(1.15+0.07*float64(len(ratioLines)+2))
	ratios.Y.Tick.Marker = linearTicks{label: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "×" }}
	if err := addLevel(ratios, 1, "parity", lo, hi); err != nil {
		return nil, err
	}
	if cores := rep.Machine.Cores; cores > 0 && math.Log10(float64(cores)) >= lo && math.Log10(float64(cores)) <= hi {
		for _, p := range []*plot.Plot{rates, ratios} {
			if err := addCPUMark(p, math.Log10(float64(cores)), cores); err != nil {
				return nil, err
			}
		}
	}
	return []namedFigure{{"width", figure{
		title:    "Width sweep of the seed topology (-stages): stage threads against the CPUs",
		subtitle: subtitle(rep),
		panels:   [][]*plot.Plot{{rates}, {ratios}},
		w:        9 * vg.Inch,
		h:        8 * vg.Inch,
	}}}, nil
}

// addLevel draws a thin horizontal reference line at y across [lo, hi].
func addLevel(p *plot.Plot, y float64, name string, lo, hi float64) error {
	l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: y}, {X: hi, Y: y}})
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = noteColor, vg.Points(1), []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}

// addCPUMark draws a vertical line at x, where the stages equal the CPUs: to its right,
// stage threads outnumber the cores they run on.
func addCPUMark(p *plot.Plot, x float64, cores int) error {
	l, err := plotter.NewLine(plotter.XYs{{X: x, Y: p.Y.Min}, {X: x, Y: p.Y.Max}})
	if err != nil {
		return err
	}
	l.Color, l.Width, l.Dashes = color.RGBA{R: 0xa0, A: 0xff}, vg.Points(1), []vg.Length{vg.Points(4), vg.Points(2)}
	p.Add(l)
	p.Legend.Add(fmt.Sprintf("%d CPUs", cores), l)
	return nil
}

// capacityFigures draws the capacity sweep (-capacity with more than one value): one panel
// per throughput row, entries per second against the capacity, one line per side:
// capacity.png.
func capacityFigures(rep Report) ([]namedFigure, error) {
	byLabel := map[string][]Row{}
	var labels []string
	for _, r := range rep.Rows {
		if r.Kind != "throughput" {
			continue
		}
		if _, ok := byLabel[r.Label()]; !ok {
			labels = append(labels, r.Label())
		}
		byLabel[r.Label()] = append(byLabel[r.Label()], r)
	}
	labels = slices.DeleteFunc(labels, func(l string) bool { return len(byLabel[l]) < 2 })
	if len(labels) == 0 {
		return nil, nil
	}
	const cols = 3
	var panels [][]*plot.Plot
	for i, label := range labels {
		rows := slices.Clone(byLabel[label])
		slices.SortStableFunc(rows, func(a, b Row) int { return a.Capacity - b.Capacity })
		p := newPlot(label, "capacity (log scale)", "entries per second")
		addGrid(p)
		lr := sweepLine{name: "loopyring", color: loopyColor}
		cr := sweepLine{name: "channels", color: chanColor}
		var xs []float64
		largest := 0.0
		for _, r := range rows {
			x := float64(r.Capacity)
			xs = append(xs, x)
			lr.xys = append(lr.xys, plotter.XY{X: math.Log10(x), Y: r.Loopy.EntriesPerSec})
			cr.xys = append(cr.xys, plotter.XY{X: math.Log10(x), Y: r.Chan.EntriesPerSec})
			largest = max(largest, r.Loopy.EntriesPerSec, r.Chan.EntriesPerSec)
		}
		if err := addLines(p, []sweepLine{lr, cr}, false); err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		p.X.Min, p.X.Max = math.Log10(xs[0])-0.1, math.Log10(xs[len(xs)-1])+0.1
		p.X.Tick.Marker = logPointTicks(xs, func(x float64) string { return strconv.Itoa(int(x)) })
		rateAxis(&p.Y, largest)
		if i%cols == 0 {
			panels = append(panels, make([]*plot.Plot, cols))
		}
		panels[len(panels)-1][i%cols] = p
	}
	return []namedFigure{{"capacity", figure{
		title:    "Capacity sweep: ring capacity (and channel buffer) against throughput",
		subtitle: subtitle(rep),
		key:      sidesKey,
		panels:   panels,
		w:        12 * vg.Inch,
		h:        1*vg.Inch + vg.Length(len(panels))*3.2*vg.Inch,
	}}}, nil
}
