package prom_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/prom"
	"github.com/loopyring/loopyring/poller"
)

// The collector scrapes a running graph's exact counts once its entries are processed, and
// after Stop every sample equals the graph's final Stats.
func TestCollectorScrapesARunningGraph(t *testing.T) {
	for _, mode := range []flow.Mode{flow.Shared, flow.Dedicated} {
		t.Run(mode.String(), func(t *testing.T) {
			if mode == flow.Dedicated && !poller.Supported() {
				t.Skip("dedicated stages need an event loop")
			}
			const n = 1000
			g, in, total := pipeline(mode)
			c := prom.NewCollector(g, "orders")
			start(t, g)
			publish(t, in, n)

			// The graph runs on: scrape until the counts are final (the sink's is the last to
			// be).
			want := entries(graphCount{"orders", n})
			for deadline := time.Now().Add(drainLimit); ; time.Sleep(time.Millisecond) {
				err := testutil.CollectAndCompare(c, strings.NewReader(want), entryNames...)
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the running graph's counts did not reach the expected ones within %v (sink: %d): %v", drainLimit, total.Load(), err)
				}
			}
			if got := total.Load(); got != n-n/10 {
				t.Fatalf("the sink received %d entries, want %d", got, n-n/10)
			}

			if err := g.Stop(); err != nil {
				t.Fatal(err)
			}
			queues := fmt.Sprintf(`
# HELP loopyring_stage_queue_length Entries in the stage's own ring not yet released by all its readers.
# TYPE loopyring_stage_queue_length gauge
loopyring_stage_queue_length{graph="orders",level="check",stage="0"} 0
loopyring_stage_queue_length{graph="orders",level="double",stage="0"} 0
loopyring_stage_queue_length{graph="orders",level="double",stage="1"} 0
# HELP loopyring_stage_queue_capacity Size of the stage's own ring.
# TYPE loopyring_stage_queue_capacity gauge
loopyring_stage_queue_capacity{graph="orders",level="check",stage="0"} 128
loopyring_stage_queue_capacity{graph="orders",level="double",stage="0"} 64
loopyring_stage_queue_capacity{graph="orders",level="double",stage="1"} 64
# HELP loopyring_stage_info Always 1: how the stage runs (mode dedicated or shared) and the CPU it is pinned to (empty if none).
# TYPE loopyring_stage_info gauge
loopyring_stage_info{cpu="",graph="orders",level="check",mode=%[1]q,stage="0"} 1
loopyring_stage_info{cpu="",graph="orders",level="double",mode=%[1]q,stage="0"} 1
loopyring_stage_info{cpu="",graph="orders",level="double",mode=%[1]q,stage="1"} 1
loopyring_stage_info{cpu="",graph="orders",level="total",mode=%[1]q,stage="0"} 1
`, mode)
			names := append([]string{"loopyring_stage_queue_length", "loopyring_stage_queue_capacity", "loopyring_stage_info"}, entryNames...)
			if err := testutil.CollectAndCompare(c, strings.NewReader(want+queues), names...); err != nil {
				t.Errorf("after Stop: %v", err)
			}

			// The counts that depend on scheduling: equal to the stopped graph's Stats.
			got := scrape(t, c)
			stats := g.Stats()
			samples := 0
			for _, s := range stats {
				for name, v := range map[string]float64{
					"loopyring_stage_batches_total":        float64(s.Batches),
					"loopyring_stage_blocked_claims_total": float64(s.Blocked),
					"loopyring_stage_sleeps_total":         float64(s.Sleeps),
					"loopyring_stage_wakeups_total":        float64(s.Wakeups),
					"loopyring_stage_busy_seconds_total":   s.Busy.Seconds(),
				} {
					k := key(name, "orders", s)
					if exported, ok := got[k]; !ok || exported != v {
						t.Errorf("%s = %v (exported %v), want %v", k, exported, ok, v)
					}
					samples++
				}
				if s.Batches == 0 || s.Busy <= 0 {
					t.Errorf("%s/%d processed entries in %d batches and %v", s.Level, s.Stage, s.Batches, s.Busy)
				}
			}
			// 4 stages × 12 families (11 counts and the info), less the sink's two queue gauges.
			if len(stats) != 4 || len(got) != 4*12-2 || samples != 4*5 {
				t.Errorf("%d stages, %d samples exported, %d compared with Stats; want 4, 46, 20", len(stats), len(got), samples)
			}
		})
	}
}

// Before Start, Stats is empty and so is every scrape; a collector registered then exports
// the graph once it runs.
func TestCollectorBeforeStartExportsNothing(t *testing.T) {
	g, in, _ := pipeline(flow.Shared)
	c := prom.NewCollector(g, "orders")
	if n := testutil.CollectAndCount(c); n != 0 {
		t.Fatalf("before Start the collector exported %d samples", n)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if families, err := reg.Gather(); err != nil || len(families) != 0 {
		t.Fatalf("Gather before Start: %d families, %v; want none", len(families), err)
	}
	start(t, g)
	publish(t, in, 10)
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "loopyring_stage_info"); err != nil || n != 4 {
		t.Fatalf("after Start: %d info samples, %v; want one per stage, 4", n, err)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(entries(graphCount{"orders", 10})), entryNames...); err != nil {
		t.Fatal(err)
	}
}

// Graphs with different names share a registry, each series labelled with its graph; a
// second collector with a name already registered is refused.
func TestGraphsShareARegistry(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	for _, c := range []struct {
		name string
		n    int
	}{{"a", 10}, {"b", 20}} {
		g, in, _ := pipeline(flow.Shared)
		if err := reg.Register(prom.NewCollector(g, c.name)); err != nil {
			t.Fatalf("Register(%q): %v", c.name, err)
		}
		start(t, g)
		publish(t, in, c.n)
		if err := g.Stop(); err != nil {
			t.Fatal(err)
		}
	}
	want := entries(graphCount{"a", 10}, graphCount{"b", 20})
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), entryNames...); err != nil {
		t.Error(err)
	}

	again, _, _ := pipeline(flow.Shared)
	err := reg.Register(prom.NewCollector(again, "a"))
	var dup prometheus.AlreadyRegisteredError
	if !errors.As(err, &dup) {
		t.Fatalf("registering a second graph named a: %v; want an AlreadyRegisteredError", err)
	}
}

// The names, types and help texts pass promlint.
func TestCollectorLint(t *testing.T) {
	g, in, _ := pipeline(flow.Shared)
	c := prom.NewCollector(g, "orders")
	start(t, g)
	publish(t, in, 10)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	if n := testutil.CollectAndCount(c); n != 4*12-2 {
		t.Errorf("linted %d samples, want 46", n)
	}
}

// Scrapes concurrent with publishing see every counter grow monotonically, and the last
// one sees everything.
func TestScrapesDuringPublishingAreMonotonic(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	g, in, _ := pipeline(flow.Shared)
	c := prom.NewCollector(g, "orders")
	start(t, g)
	done := make(chan error, 1)
	go func() {
		for i := range n {
			if err := in.Publish(context.Background(), i); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	sink := key("loopyring_stage_entries_in_total", "orders", flow.StageStats{Level: "total"})
	last := map[string]float64{}
	deadline := time.Now().Add(drainLimit)
	scrapes := 0
	for last[sink] < float64(n-n/10) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v the sink's count is %v of %d", drainLimit, last[sink], n-n/10)
		}
		got := scrape(t, c)
		scrapes++
		for k, v := range got {
			if strings.Contains(k, "_total{") && v < last[k] {
				t.Fatalf("scrape %d: %s went from %v to %v", scrapes, k, last[k], v)
			}
		}
		last = got
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if last[sink] != float64(n-n/10) {
		t.Errorf("the sink's count went past the entries published: %v", last[sink])
	}
}

// A level name that is not valid UTF-8 fails the scrape with an error instead of panicking
// in the scraping goroutine; the other stages are still gathered.
func TestInvalidLevelNameFailsTheScrape(t *testing.T) {
	g := flow.New(flow.GraphMode(flow.Shared))
	in := flow.Input[int](g)
	in.Then(1, func(v int) int { return v }, flow.Name("ok")).
		Sink(1, func(int) {}, flow.Name("bad\xff"))
	start(t, g)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(g, "orders"))
	families, err := reg.Gather()
	if err == nil || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("Gather: %v; want an error about UTF-8", err)
	}
	if len(families) == 0 || families[0].GetMetric()[0].GetLabel()[1].GetValue() != "ok" {
		t.Fatalf("the valid stage's samples were not gathered: %v", families)
	}
}

func TestNewCollectorPanicsOnMisuse(t *testing.T) {
	for _, c := range []struct {
		name  string
		g     *flow.Graph
		graph string
	}{
		{"nil graph", nil, "orders"},
		{"empty name", flow.New(), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "prom: ") {
					t.Errorf("recovered %v; want a panic prefixed prom:", r)
				}
			}()
			prom.NewCollector(c.g, c.graph)
		})
	}
}
