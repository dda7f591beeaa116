package prom

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/loopyring/loopyring/flow"
)

// A Collector exports the stage statistics of one flow.Graph. It implements
// prometheus.Collector: Describe sends a fixed set of descriptors, and Collect builds
// constant metrics from one Graph.Stats call. Create it with NewCollector; the zero value is
// not usable.
//
// Reading at scrape time was chosen over mirroring the counters into prometheus.Counter
// values as they change: that would put a second atomic add, on a shared cache line, on
// every stage's batch path, which is the path the graph exists to keep short. Stats already
// keeps the counters on each stage's own lines, so a scrape only reads them.
type Collector struct {
	g       *flow.Graph
	metrics []metric
	info    *prometheus.Desc
}

// A metric is one series per stage: how to describe it and where its value comes from.
type metric struct {
	desc   *prometheus.Desc
	kind   prometheus.ValueType
	value  func(*flow.StageStats) float64
	ringed bool // exported only for stages that own a ring (Capacity > 0)
}

// NewCollector returns a collector for g, whose metrics carry the constant label
// graph=name. The name tells graphs apart in one registry: registering two collectors with
// the same name returns a prometheus.AlreadyRegisteredError. It may be called before or
// after g.Start; until Start the collector exports nothing. It panics if g is nil or name is
// empty.
func NewCollector(g *flow.Graph, name string) *Collector {
	if g == nil {
		panic("prom: NewCollector of a nil graph")
	}
	if name == "" {
		panic("prom: NewCollector needs a graph name")
	}
	graph := prometheus.Labels{"graph": name}
	stage := []string{"level", "stage"}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("loopyring_stage_"+name, help, stage, graph)
	}
	counter := func(name, help string, value func(*flow.StageStats) uint64) metric {
		return metric{desc: desc(name, help), kind: prometheus.CounterValue,
			value: func(s *flow.StageStats) float64 { return float64(value(s)) }}
	}
	gauge := func(name, help string, value func(*flow.StageStats) int) metric {
		return metric{desc: desc(name, help), kind: prometheus.GaugeValue, ringed: true,
			value: func(s *flow.StageStats) float64 { return float64(value(s)) }}
	}
	return &Collector{
		g: g,
		metrics: []metric{
			counter("entries_in_total",
				"Entries in the input ranges the stage read, including those its level's routing gave to other stages.",
				func(s *flow.StageStats) uint64 { return s.In }),
			counter("entries_handled_total",
				"Entries of the stage's own share (after its level's routing) that its function was given.",
				func(s *flow.StageStats) uint64 { return s.Handled }),
			counter("entries_out_total",
				"Entries the stage published into its own ring.",
				func(s *flow.StageStats) uint64 { return s.Out }),
			counter("batches_total",
				"Batches the stage took from its input rings.",
				func(s *flow.StageStats) uint64 { return s.Batches }),
			counter("errors_total",
				"Errors and panics of the stage's function, whatever the level's error policy.",
				func(s *flow.StageStats) uint64 { return s.Errors }),
			counter("blocked_claims_total",
				"Times the stage found its output ring full and had to wait for a reader.",
				func(s *flow.StageStats) uint64 { return s.Blocked }),
			counter("sleeps_total",
				"Times the stage slept: in its event loop (a dedicated stage, a source), or, shared, waiting for input.",
				func(s *flow.StageStats) uint64 { return s.Sleeps }),
			counter("wakeups_total",
				"Wakeups that wrote to the stage's event loop's wake descriptor (dedicated stages and sources; 0 for other shared stages).",
				func(s *flow.StageStats) uint64 { return s.Wakeups }),
			{
				desc: desc("busy_seconds_total",
					"Time the stage spent on batches, from the end of its last batch or wait to the end of each batch."),
				kind:  prometheus.CounterValue,
				value: func(s *flow.StageStats) float64 { return s.Busy.Seconds() },
			},
			gauge("queue_length",
				"Entries in the stage's own ring not yet released by all its readers.",
				func(s *flow.StageStats) int { return s.Queue }),
			gauge("queue_capacity",
				"Size of the stage's own ring.",
				func(s *flow.StageStats) int { return s.Capacity }),
		},
		info: prometheus.NewDesc("loopyring_stage_info",
			"Always 1: how the stage runs (mode dedicated or shared) and the CPU it is pinned to (empty if none).",
			[]string{"level", "stage", "mode", "cpu"}, graph),
	}
}

// Describe sends the descriptor of every metric the collector can export, whether or not
// the graph has started.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
	ch <- c.info
}

// Collect sends one sample of each metric per stage, from one Graph.Stats snapshot: nothing
// before the graph starts, the final counts after it stops. Queue gauges are sent only for
// stages that own a ring (sinks and phases do not).
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.g.Stats() {
		stage := strconv.Itoa(s.Stage)
		for _, m := range c.metrics {
			if m.ringed && s.Capacity == 0 {
				continue
			}
			ch <- constMetric(m.desc, m.kind, m.value(&s), s.Level, stage)
		}
		cpu := ""
		if s.CPU >= 0 {
			cpu = strconv.Itoa(s.CPU)
		}
		ch <- constMetric(c.info, prometheus.GaugeValue, 1, s.Level, stage, s.Mode.String(), cpu)
	}
}

// constMetric returns the sample, or, for a level name that is not valid UTF-8, an invalid
// metric that fails the scrape with the reason; MustNewConstMetric would panic in the
// scraping goroutine instead.
func constMetric(d *prometheus.Desc, kind prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, kind, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}
