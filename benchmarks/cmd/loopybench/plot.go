package main

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The plots draw a Report, the same one the tables print, so a report read back with -from
// draws the same pictures as the run that wrote it. Each chart is one PNG file: throughput
// per topology at each capacity, the width sweep and the capacity sweep as lines, and the
// latency distributions of both sides. A chart whose data the report lacks (a sweep of one
// point) is not drawn.

// plotReport draws every chart rep has data for into dir and returns the files written.
func plotReport(dir string, rep Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var figs []namedFigure
	for _, draw := range []func(Report) ([]namedFigure, error){throughputFigures, widthFigures, capacityFigures, latencyFigures} {
		f, err := draw(rep)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f...)
	}
	var files []string
	for _, f := range figs {
		path := filepath.Join(dir, f.name+".png")
		if err := f.save(path); err != nil {
			return files, fmt.Errorf("plot %s: %w", path, err)
		}
		files = append(files, path)
	}
	return files, nil
}

// The charts use Liberation Sans, which gonum bundles, rather than its default serif:
// sans-serif reads better at the small sizes of tick labels.
func init() { plot.DefaultFont = font.Font{Typeface: "Liberation", Variant: "Sans"} }

// dpi is the resolution of the PNG files: sharp enough on a high-density screen, small
// enough (100–200 kB) to commit one. Tests lower it: gonum's rasterizer is pure Go, and
// under -race a chart at 144 dpi takes seconds.
var dpi = 144

// The two sides keep one color in every chart.
var (
	loopyColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // blue
	chanColor  = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // orange
	gridColor  = color.Gray{Y: 0xdd}
	noteColor  = color.Gray{Y: 0x55}
)

// dashes tells apart lines of one side that differ in something else (their capacity).
var dashes = [][]vg.Length{nil, {vg.Points(6), vg.Points(3)}, {vg.Points(2), vg.Points(2)}, {vg.Points(8), vg.Points(2), vg.Points(2), vg.Points(2)}}

// namedFigure is a figure and the file name it is saved under, without extension.
type namedFigure struct {
	name string
	figure
}

// figure is one image: a title, a line saying where and how it was measured, a key of
// the colors where every panel shares it, and a grid of plots aligned so that their data
// areas line up.
type figure struct {
	title, subtitle string
	key             []keyEntry
	panels          [][]*plot.Plot // rows of columns; a nil cell stays blank
	w, h            vg.Length
}

// keyEntry is one color of a figure's key.
type keyEntry struct {
	name  string
	color color.Color
}

// sidesKey is the key of a figure whose panels draw both sides in their colors.
var sidesKey = []keyEntry{{"loopyring", loopyColor}, {"channels", chanColor}}

func (f figure) save(path string) error {
	img := vgimg.NewWith(vgimg.UseWH(f.w, f.h), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	pad := vg.Points(8)
	top := dc.Max.Y - pad
	for _, t := range []struct {
		s    string
		size vg.Length
		c    color.Color
	}{{f.title, 14, color.Black}, {f.subtitle, 9, noteColor}} {
		if t.s == "" {
			continue
		}
		sty := textStyle(t.size, t.c)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		dc.FillText(sty, vg.Point{X: dc.Center().X, Y: top}, t.s)
		top -= sty.Rectangle(t.s).Size().Y + vg.Points(4)
	}
	if len(f.key) > 0 {
		top -= drawKey(dc, top, f.key) + vg.Points(4)
	}
	dc.Max.Y = top - pad
	tiles := draw.Tiles{
		Rows: len(f.panels), Cols: len(f.panels[0]),
		PadX: vg.Points(24), PadY: vg.Points(18),
		PadLeft: pad, PadRight: vg.Points(14), PadBottom: pad,
	}
	canvases := plot.Align(f.panels, tiles, dc)
	for i, row := range f.panels {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// drawKey draws a row of color swatches and names centred under y and returns its height.
func drawKey(dc draw.Canvas, y vg.Length, key []keyEntry) vg.Length {
	sty := textStyle(10, color.Black)
	sty.YAlign = draw.YTop
	sw, gap := vg.Points(14), vg.Points(5)
	h := sty.Rectangle("M").Size().Y
	width := vg.Length(0)
	for i, k := range key {
		if i > 0 {
			width += 3 * gap
		}
		width += sw + gap + sty.Rectangle(k.name).Size().X
	}
	x := dc.Center().X - width/2
	for _, k := range key {
		dc.SetColor(k.color)
		dc.Fill(vg.Rectangle{Min: vg.Point{X: x, Y: y - h*0.85}, Max: vg.Point{X: x + sw, Y: y - h*0.15}}.Path())
		x += sw + gap
		dc.FillText(sty, vg.Point{X: x, Y: y}, k.name)
		x += sty.Rectangle(k.name).Size().X + 3*gap
	}
	return h
}

func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(plot.DefaultFont, size), Handler: plot.DefaultTextHandler}
}

// newPlot is a panel with the charts' common look: a light grid behind the data, a
// legend at the top left.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 11
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.TextStyle.Font.Size = 10
	p.Y.Label.TextStyle.Font.Size = 10
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.TextStyle.Font.Size = 9
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), -vg.Points(4)
	return p
}

// subtitle says where and how a report was measured, for every figure of it.
func subtitle(rep Report) string {
	m, s := rep.Machine, rep.Settings
	date, _, _ := strings.Cut(m.Date, "T")
	runs := fmt.Sprintf("median of %d runs", s.Runs)
	if s.Runs == 1 {
		runs = "1 run"
	}
	return fmt.Sprintf("%s, %d CPUs (GOMAXPROCS %d), %s %s, %s · %s of %s per side · loopyring placement %s, mode %s",
		m.CPU, m.Cores, m.GOMAXPROCS, m.GoVersion, m.OS, date, runs, s.Duration, m.Placement, s.Mode)
}

// linearTicks labels a linear axis every 1, 2, 2.5 or 5 times a power of ten, the
// smallest step of those that makes at most eight intervals, so that it has five to nine
// labels; gonum's default labels as few as two.
type linearTicks struct {
	label func(float64) string
}

func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: t.label(lo)}}
	}
	raw := (hi - lo) / 8
	e := int(math.Floor(math.Log10(raw)))
	m := 10.0
	for _, f := range []float64{1, 2, 2.5, 5} {
		if f*math.Pow10(e) >= raw {
			m = f
			break
		}
	}
	// i·m is exact; dividing by a power of ten rather than multiplying by its inverse keeps
	// 0.6 from printing as 0.6000000000000001.
	at := func(i float64) float64 {
		if e < 0 {
			return i * m / math.Pow10(-e)
		}
		return i * m * math.Pow10(e)
	}
	var ts []plot.Tick
	for i := math.Ceil(lo / at(1)); at(i) <= hi*(1+1e-9); i++ {
		ts = append(ts, plot.Tick{Value: at(i), Label: t.label(at(i))})
		if mid := at(i + 0.5); mid < hi {
			ts = append(ts, plot.Tick{Value: mid})
		}
	}
	return ts
}

// rateAxis sets a plot's y axis (or x, for horizontal bars) up for entries per second,
// from 0 so that bar lengths and line heights compare, with room above the largest value,
// labelled with SI suffixes (10M, not 1e+07).
func rateAxis(a *plot.Axis, largest float64) {
	a.Min, a.Max = 0, largest*1.12
	a.Tick.Marker = linearTicks{label: human}
}

// Log axes are drawn as linear axes over log10 of the values, labelled with the values:
// gonum's LogScale places an axis label's glyph box at the midpoint of the data values,
// not of the axis, which near the top of a log axis shrinks the data area to make room
// for a label that is not there.

// logPointTicks labels exactly the values swept (capacities, stage counts) on a log10 axis.
func logPointTicks(values []float64, label func(float64) string) plot.ConstantTicks {
	var ts plot.ConstantTicks
	for _, v := range values {
		ts = append(ts, plot.Tick{Value: math.Log10(v), Label: label(v)})
	}
	return ts
}
