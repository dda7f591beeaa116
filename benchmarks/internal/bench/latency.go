package bench

import (
	"fmt"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// DefaultRate is the input rate of a latency run whose Config.Rate is 0: a moderate load,
// at which neither side should queue, so the percentiles show hand-off cost, not backlog.
const DefaultRate = 5000

// Latency is the distribution one latency run measured.
type Latency struct {
	Count               int64 // values recorded, including those that coordinated-omission correction added
	P50, P99, P999, Max time.Duration
	// Percentiles is the whole distribution, sampled on the grid of PercentileGrid up to
	// the percentile that Count can resolve, so that it can be drawn as a curve.
	Percentiles []Percentile
	Result      Result // the run's totals; Entries counts round trips or entries
}

// A LatencyTest is one latency benchmark, written once per side.
type LatencyTest struct {
	Name  string
	About string
	loopy func(Config, *hdrhistogram.Histogram, *meter) error
	chans func(Config, *hdrhistogram.Histogram, *meter) error
}

var latencyTests = []LatencyTest{
	{"pingpong", "round trip between 2 goroutines (one ring each way)", pingPongLoopy, pingPongChan},
	{"pipeline-latency", "publish → 3 stages, end to end, at a fixed input rate", pipelineLatencyLoopy, pipelineLatencyChan},
}

// LatencyTests returns every latency benchmark, in the order of the tables.
func LatencyTests() []LatencyTest { return slices.Clone(latencyTests) }

// Run runs one side of the test with cfg: cfg.N round trips or entries, at cfg.Rate entries
// per second where the test is paced.
func (t LatencyTest) Run(side Side, cfg Config) (Latency, error) {
	return t.run(side, cfg, nil)
}

func (t LatencyTest) run(side Side, cfg Config, b stopwatch) (Latency, error) {
	if err := cfg.validate(); err != nil {
		return Latency{}, fmt.Errorf("%s/%s: %w", t.Name, side, err)
	}
	// 1 ns to 100 s at 3 significant digits: a stall shows as itself, not as an overflow.
	h := hdrhistogram.New(1, int64(100*time.Second), 3)
	fn := t.loopy
	if side == Chan {
		fn = t.chans
	}
	m := &meter{b: b}
	err := fn(cfg, h, m)
	lat := Latency{
		Count:  h.TotalCount(),
		P50:    time.Duration(h.ValueAtQuantile(50)),
		P99:    time.Duration(h.ValueAtQuantile(99)),
		P999:   time.Duration(h.ValueAtQuantile(99.9)),
		Max:    time.Duration(h.Max()),
		Result: m.res,
	}
	lat.Percentiles = percentiles(h)
	if err != nil {
		return lat, fmt.Errorf("%s/%s: %w", t.Name, side, err)
	}
	return lat, nil
}

// record adds one latency; a value beyond the histogram's range is recorded as its top.
// With an interval it also adds what coordinated omission hid, but never more than limit
// values for one entry: a stall cannot have held back more entries than the run offers,
// and a host whose clock jumps (a paused VM) would otherwise record millions of values per
// entry and stall the run itself.
func record(h *hdrhistogram.Histogram, ns, interval, limit int64) {
	ns = min(max(ns, 1), h.HighestTrackableValue())
	if interval <= 0 {
		_ = h.RecordValue(ns) // cannot fail: ns is in range
		return
	}
	if ns/interval <= limit {
		// Coordinated omission: a publisher held up by a slow entry did not send the
		// entries it was due to send meanwhile; the correction records the latencies they
		// would have seen, so a stall is weighted by how long it lasted.
		_ = h.RecordCorrectedValue(ns, interval)
		return
	}
	_ = h.RecordValue(ns)
	for missing, k := ns-interval, int64(0); missing >= interval && k < limit; missing, k = missing-interval, k+1 {
		_ = h.RecordValue(missing)
	}
}
