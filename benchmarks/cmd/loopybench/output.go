package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

func write(w io.Writer, format string, rep Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "csv":
		return writeCSV(w, rep)
	default:
		return writeMarkdown(w, rep)
	}
}

// csvHeader is one flat row per topology and capacity, both sides side by side, so that a
// spreadsheet or plotting script needs no reshaping; latency columns are empty on
// throughput rows.
var csvHeader = []string{
	"kind", "topology", "shape", "capacity",
	"loopyring_entries_per_s", "chan_entries_per_s", "ratio",
	"loopyring_allocs_per_entry", "chan_allocs_per_entry",
	"loopyring_cpu_ns_per_entry", "chan_cpu_ns_per_entry",
	"loopyring_p50_ns", "loopyring_p99_ns", "loopyring_p999_ns", "loopyring_max_ns",
	"chan_p50_ns", "chan_p99_ns", "chan_p999_ns", "chan_max_ns",
}

func writeCSV(w io.Writer, rep Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, r := range rep.Rows {
		rec := []string{r.Kind, r.Topology, r.Shape, strconv.Itoa(r.Capacity),
			f(r.Loopy.EntriesPerSec), f(r.Chan.EntriesPerSec), f(r.Ratio),
			f(r.Loopy.AllocsPerEntry), f(r.Chan.AllocsPerEntry),
			f(r.Loopy.CPUPerEntryNs), f(r.Chan.CPUPerEntryNs),
		}
		if r.Kind == "latency" {
			for _, s := range []SideResult{r.Loopy, r.Chan} {
				rec = append(rec, f(s.P50Ns), f(s.P99Ns), f(s.P999Ns), f(s.MaxNs))
			}
		} else {
			rec = append(rec, make([]string, 8)...)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeMarkdown(w io.Writer, rep Report) error {
	var b strings.Builder
	m, s := rep.Machine, rep.Settings
	fmt.Fprintf(&b, "## loopybench\n\n")
	fmt.Fprintf(&b, "- machine: %s, %d CPUs usable (%d online), GOMAXPROCS %d, %s %s\n",
		m.CPU, m.Cores, m.Online, m.GOMAXPROCS, m.GoVersion, m.OS)
	fmt.Fprintf(&b, "- placement of loopyring threads: %s (channels: Go scheduler); load average at start: %s; %s\n",
		m.Placement, orDash(m.LoadAvg), m.Date)
	cores := "the spare cores"
	if s.SpinCores >= 0 {
		cores = fmt.Sprint(s.SpinCores)
	}
	fmt.Fprintf(&b, "- flow stages: mode %s, spin %s, spin budget %s\n", s.Mode, s.Spin, cores)
	rt := "not measured"
	if m.LineRoundTripNs > 0 {
		rt = ns(m.LineRoundTripNs)
	}
	fmt.Fprintf(&b, "- cache line round trip between two spinning threads: %s (it bounds every hand-off between cores)\n", rt)
	fmt.Fprintf(&b, "- each figure is the median of %d runs per side of %s each, sides alternated; latency input rate %d/s\n",
		s.Runs, s.Duration, s.Rate)
	if rep.Interrupted != "" {
		fmt.Fprintf(&b, "- **interrupted**: %s\n", rep.Interrupted)
	}
	b.WriteString("\n")

	var thr, lat []Row
	for _, r := range rep.Rows {
		if r.Kind == "latency" {
			lat = append(lat, r)
		} else {
			thr = append(thr, r)
		}
	}
	if len(thr) > 0 {
		table(&b, []string{"topology", "capacity", "loopyring entries/s", "channels entries/s", "ratio",
			"allocs/entry loopyring / chan", "CPU/entry loopyring / chan"}, "lrrrrrr", len(thr), func(i int) []string {
			r := thr[i]
			return []string{r.Label(), strconv.Itoa(r.Capacity), human(r.Loopy.EntriesPerSec), human(r.Chan.EntriesPerSec),
				fmt.Sprintf("%.2f×", r.Ratio),
				fmt.Sprintf("%.2g / %.2g", r.Loopy.AllocsPerEntry, r.Chan.AllocsPerEntry),
				fmt.Sprintf("%s / %s", ns(r.Loopy.CPUPerEntryNs), ns(r.Chan.CPUPerEntryNs))}
		})
	}
	if len(lat) > 0 {
		b.WriteString("\nLatency (coordinated-omission corrected for the paced pipeline):\n\n")
		table(&b, []string{"test", "capacity", "loopyring p50 / p99 / p99.9 / max", "channels p50 / p99 / p99.9 / max",
			"p99 ratio (chan / loopyring)", "CPU/entry loopyring / chan"}, "lrrrrr", len(lat), func(i int) []string {
			r := lat[i]
			pct := func(s SideResult) string {
				return fmt.Sprintf("%s / %s / %s / %s", ns(s.P50Ns), ns(s.P99Ns), ns(s.P999Ns), ns(s.MaxNs))
			}
			return []string{r.Topology, strconv.Itoa(r.Capacity), pct(r.Loopy), pct(r.Chan),
				fmt.Sprintf("%.2f×", r.Ratio), fmt.Sprintf("%s / %s", ns(r.Loopy.CPUPerEntryNs), ns(r.Chan.CPUPerEntryNs))}
		})
	}
	writeScaling(&b, thr)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeScaling adds, for a sweep of seed shapes, how throughput grows with the number of
// stages, relative to the first shape, per capacity.
func writeScaling(b *strings.Builder, thr []Row) {
	byCap := map[int][]Row{}
	var caps []int
	for _, r := range thr {
		if r.Topology != "seed" {
			continue
		}
		if _, ok := byCap[r.Capacity]; !ok {
			caps = append(caps, r.Capacity)
		}
		byCap[r.Capacity] = append(byCap[r.Capacity], r)
	}
	for _, c := range caps {
		rows := byCap[c]
		if len(rows) < 2 {
			continue
		}
		fmt.Fprintf(b, "\nSeed scaling at capacity %d (relative to %s):\n\n", c, rows[0].Shape)
		first := rows[0]
		table(b, []string{"shape", "stages", "loopyring entries/s", "scaling", "channels entries/s", "scaling", "ratio"},
			"lrrrrrr", len(rows), func(i int) []string {
				r := rows[i]
				return []string{r.Shape, strconv.Itoa(stageCount(r.Shape)), human(r.Loopy.EntriesPerSec),
					fmt.Sprintf("%.2f×", r.Loopy.EntriesPerSec/first.Loopy.EntriesPerSec),
					human(r.Chan.EntriesPerSec), fmt.Sprintf("%.2f×", r.Chan.EntriesPerSec/first.Chan.EntriesPerSec),
					fmt.Sprintf("%.2f×", r.Ratio)}
			})
	}
}

// stageCount adds up a shape string's stages, source included.
func stageCount(shape string) int {
	n := 0
	for p := range strings.SplitSeq(shape, "→") {
		v, _ := strconv.Atoi(p)
		n += v
	}
	return n
}

// table writes a Markdown table; align has one 'l' or 'r' per column.
func table(b *strings.Builder, header []string, align string, rows int, row func(int) []string) {
	line := func(cells []string) {
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	line(header)
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
		if align[i] == 'r' {
			seps[i] = "---:"
		}
	}
	line(seps)
	for i := range rows {
		line(row(i))
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// human prints a rate with three significant digits and an SI suffix: 12.3M.
func human(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.3gG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}
