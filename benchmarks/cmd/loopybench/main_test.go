package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/loopyring/loopyring/benchmarks/internal/bench"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// allNames is every row a full run must have.
func allNames() []string {
	var names []string
	for _, tp := range bench.Topologies() {
		names = append(names, tp.Name)
	}
	for _, lt := range bench.LatencyTests() {
		names = append(names, lt.Name)
	}
	return names
}

// runTiny runs the command in-process with a tiny duration and returns its stdout, failing
// the test on an error or on missing progress.
func runTiny(t *testing.T, args ...string) string {
	t.Helper()
	var out, progress bytes.Buffer
	args = append([]string{"-duration", "5ms", "-runs", "1", "-rate", "20000"}, args...)
	if err := run(args, &out, &progress); err != nil {
		t.Fatalf("run %q: %v\nstderr:\n%s", args, err, progress.String())
	}
	if !strings.Contains(progress.String(), "[1/") {
		t.Fatalf("run %q showed no progress on stderr:\n%s", args, progress.String())
	}
	return out.String()
}

// markdownRows parses the Markdown tables of a report: for each table, its rows as cells,
// after checking that every line has as many cells as the header and that the second line
// is a separator.
func markdownRows(t *testing.T, md string) [][][]string {
	t.Helper()
	var tables [][][]string
	var cur [][]string
	width := 0
	lines := strings.Split(md, "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "|") {
			if cur != nil {
				tables = append(tables, cur)
				cur = nil
			}
			continue
		}
		if !strings.HasSuffix(line, "|") {
			t.Fatalf("line %d does not close its row: %q", i+1, line)
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for j := range cells {
			cells[j] = strings.TrimSpace(cells[j])
		}
		switch {
		case cur == nil:
			width = len(cells)
			cur = [][]string{}
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "| ---") {
				t.Fatalf("table header at line %d has no separator line", i+1)
			}
			continue
		case len(cells) != width:
			t.Fatalf("line %d has %d cells, the header %d: %q", i+1, len(cells), width, line)
		case strings.HasPrefix(cells[0], "---"):
			continue
		}
		cur = append(cur, cells)
	}
	if cur != nil {
		tables = append(tables, cur)
	}
	return tables
}

func TestMarkdownHasEveryTopology(t *testing.T) {
	md := runTiny(t)
	tables := markdownRows(t, md)
	if len(tables) != 2 {
		t.Fatalf("got %d tables, want throughput and latency:\n%s", len(tables), md)
	}
	var got []string
	for _, tb := range tables {
		for _, row := range tb {
			got = append(got, strings.Fields(row[0])[0])
		}
	}
	if want := allNames(); !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q:\n%s", got, want, md)
	}
	for _, want := range []string{"GOMAXPROCS", runtime.Version(), "placement", "median of 1 runs"} {
		if !strings.Contains(md, want) {
			t.Errorf("report does not record %q:\n%s", want, md)
		}
	}
}

func TestCSVParses(t *testing.T) {
	out := runTiny(t, "-format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv: %v\n%s", err, out)
	}
	if !slices.Equal(recs[0], csvHeader) {
		t.Fatalf("header %q, want %q", recs[0], csvHeader)
	}
	var names []string
	for _, r := range recs[1:] {
		names = append(names, r[1])
		for col, name := range csvHeader {
			if strings.HasSuffix(name, "entries_per_s") && (r[col] == "" || r[col] == "0") {
				t.Errorf("row %s: %s is %q", r[1], name, r[col])
			}
			if r[0] == "latency" && strings.HasSuffix(name, "_ns") && r[col] == "" {
				t.Errorf("latency row %s: %s is empty", r[1], name)
			}
		}
	}
	if want := allNames(); !slices.Equal(names, want) {
		t.Fatalf("rows %q, want %q", names, want)
	}
}

func TestJSONParses(t *testing.T) {
	out := runTiny(t, "-format", "json", "-topology", "unicast|pingpong")
	var rep Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(rep.Rows) != 2 || rep.Rows[0].Topology != "unicast" || rep.Rows[1].Topology != "pingpong" {
		t.Fatalf("rows %+v, want unicast and pingpong", rep.Rows)
	}
	for _, r := range rep.Rows {
		if r.Loopy.EntriesPerSec <= 0 || r.Chan.EntriesPerSec <= 0 || r.Ratio <= 0 || len(r.Loopy.Runs) != 1 {
			t.Errorf("row %+v: want positive rates and ratio and one run", r)
		}
	}
	if lat := rep.Rows[1]; lat.Kind != "latency" || lat.Loopy.P99Ns <= 0 || lat.Chan.MaxNs < lat.Chan.P99Ns {
		t.Errorf("latency row %+v: want percentiles", lat)
	}
	if rep.Machine.GOMAXPROCS != runtime.GOMAXPROCS(0) || rep.Machine.CPU == "" || rep.Settings.Runs != 1 {
		t.Errorf("machine %+v settings %+v", rep.Machine, rep.Settings)
	}
}

func TestSeedSweep(t *testing.T) {
	md := runTiny(t, "-topology", "^seed$", "-stages", "2,1/3", "-capacity", "64,128")
	tables := markdownRows(t, md)
	// throughput, then one scaling table per capacity
	if len(tables) != 3 {
		t.Fatalf("got %d tables, want 3:\n%s", len(tables), md)
	}
	var labels []string
	for _, row := range tables[0] {
		labels = append(labels, row[0]+"@"+row[1])
	}
	want := []string{"seed 1→1→2→1@64", "seed 1→1→3@64", "seed 1→1→2→1@128", "seed 1→1→3@128"}
	if !slices.Equal(labels, want) {
		t.Fatalf("rows %q, want %q", labels, want)
	}
	if got := tables[1][0][3]; got != "1.00×" {
		t.Errorf("the first shape scales %s against itself, want 1.00×", got)
	}
	if got := tables[2][1][1]; got != "5" {
		t.Errorf("1→1→3 has %s stages, want 5", got)
	}
}

func TestPlacementFlag(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("pinning is Linux-only")
	}
	md := runTiny(t, "-topology", "^unicast$|^pipeline$", "-placement", "compact")
	if !strings.Contains(md, "placement of loopyring threads: compact") {
		t.Fatalf("report does not record the placement:\n%s", md)
	}
}

func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-duration", "0s"}, "-duration"},
		{[]string{"-runs", "0"}, "-runs"},
		{[]string{"-capacity", "1000"}, "-capacity"},
		{[]string{"-stages", "2/0"}, "-stages"},
		{[]string{"-stages", "x"}, "-stages"},
		{[]string{"-placement", "sideways"}, "-placement"},
		{[]string{"-placement", "explicit"}, "-placement"},
		{[]string{"-format", "xml"}, "-format"},
		{[]string{"-topology", "("}, "-topology"},
		{[]string{"-topology", "nothing-matches"}, "matches nothing"},
		{[]string{"-rate", "0"}, "-rate"},
		{[]string{"extra"}, "unexpected"},
	} {
		err := run(tc.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %q: err %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	if err := run([]string{"-h"}, io.Discard, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err %v, want flag.ErrHelp", err)
	}
}

func TestParseShapes(t *testing.T) {
	got, err := parseShapes("4, 1,3/6/3/1")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]int{{2, 4, 2}, {1, 1, 1}, {3, 6, 3, 1}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("parseShapes = %v, want %v", got, want)
	}
	if s := shapeString(want[0]); s != "1→2→4→2" {
		t.Fatalf("shapeString = %q", s)
	}
}

func TestHumanAndNs(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{human(12345678), "12.3M"}, {human(999), "999"}, {human(1.5e9), "1.5G"}, {human(4200), "4.2k"},
		{ns(592), "592ns"}, {ns(28415), "28.4µs"}, {ns(1138687), "1.14ms"}, {ns(2.5e9), "2.5s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
