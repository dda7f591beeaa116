package prom_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loopyring/loopyring/flow"
)

// drainLimit bounds every wait for a graph to process what it was given. It detects a hang;
// it is not a performance bound.
const drainLimit = 30 * time.Second

var errMultipleOf20 = errors.New("multiple of 20")

// pipeline builds numbers → double (2 stages, partitioned by parity) → check (fails
// multiples of 20, skipped) → total (counts what reaches it). For the published values
// 0..n-1 with n a multiple of 10, the counts are exact whatever the scheduling: each double
// stage reads the whole input ring and publishes its half, check fails n/10 entries and
// publishes the rest, and total receives those.
func pipeline(mode flow.Mode) (*flow.Graph, *flow.Publisher[int], *atomic.Int64) {
	g := flow.New(flow.GraphMode(mode))
	in := flow.Input[int](g, flow.Name("numbers"), flow.Capacity(64))
	var total atomic.Int64
	in.PartitionBy(func(v int) int { return v % 2 }).
		Then(2, func(v int) int { return 2 * v }, flow.Name("double"), flow.Capacity(64)).
		ThenErr(1, func(v int) (int, error) {
			if v%20 == 0 {
				return 0, errMultipleOf20
			}
			return v, nil
		}, flow.Name("check"), flow.OnError(flow.Skip), flow.Capacity(128)).
		Sink(1, func(int) { total.Add(1) }, flow.Name("total"))
	return g, in, &total
}

// start starts g and registers a Stop in cleanup.
func start(t *testing.T, g *flow.Graph) {
	t.Helper()
	if err := g.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = g.Stop() })
}

// publish publishes 0..n-1.
func publish(t *testing.T, in *flow.Publisher[int], n int) {
	t.Helper()
	for i := range n {
		if err := in.Publish(context.Background(), i); err != nil {
			t.Fatalf("Publish(%d): %v", i, err)
		}
	}
}

// graphCount names a graph built by pipeline and the entries 0..n-1 it processed.
type graphCount struct {
	graph string
	n     int
}

// entries is the exposition of the entry and error counters of pipeline's graphs after each
// processed its entries: what the stages count whatever the scheduling.
func entries(graphs ...graphCount) string {
	var b strings.Builder
	family := func(name, help string, values func(n int) [4]int) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name)
		for _, g := range graphs {
			for i, stage := range []string{`level="check",stage="0"`, `level="double",stage="0"`, `level="double",stage="1"`, `level="total",stage="0"`} {
				fmt.Fprintf(&b, "%s{graph=%q,%s} %d\n", name, g.graph, stage, values(g.n)[i])
			}
		}
	}
	family("loopyring_stage_entries_in_total",
		"Entries in the input ranges the stage read, including those its level's routing gave to other stages.",
		func(n int) [4]int { return [4]int{n, n, n, n - n/10} })
	family("loopyring_stage_entries_handled_total",
		"Entries of the stage's own share (after its level's routing) that its function was given.",
		func(n int) [4]int { return [4]int{n, n / 2, n / 2, n - n/10} })
	family("loopyring_stage_entries_out_total", "Entries the stage published into its own ring.",
		func(n int) [4]int { return [4]int{n - n/10, n / 2, n / 2, 0} })
	family("loopyring_stage_errors_total", "Errors and panics of the stage's function, whatever the level's error policy.",
		func(n int) [4]int { return [4]int{n / 10, 0, 0, 0} })
	return b.String()
}

// entryNames are the families entries describes.
var entryNames = []string{"loopyring_stage_entries_in_total", "loopyring_stage_entries_handled_total", "loopyring_stage_entries_out_total", "loopyring_stage_errors_total"}

// scrape gathers c through a pedantic registry, which also checks every sample against
// c's descriptors, and returns each sample's value under its name and labels,
// "name{label=value,...}" with the labels in name order.
func scrape(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatalf("Register: %v", err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			k := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[k] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[k] = m.GetGauge().GetValue()
			default:
				t.Fatalf("%s is neither a counter nor a gauge", k)
			}
		}
	}
	return out
}

// key names one stage's sample of a metric in scrape's map.
func key(name, graph string, s flow.StageStats) string {
	return fmt.Sprintf("%s{graph=%s,level=%s,stage=%d}", name, graph, s.Level, s.Stage)
}
