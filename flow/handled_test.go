package flow_test

import (
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// TestStatsHandledCountsEachStagesShare: Handled counts what a stage's function was given,
// its own share, where In counts every entry of the ranges it read; summed over a level,
// Handled is each entry once under shared and key routing, once per stage under broadcast.
func TestStatsHandledCountsEachStagesShare(t *testing.T) {
	n := scale(9000, 900)
	g := flow.New()
	in := flow.Input[int](g)
	in.Sink(3, func(int) {}, flow.Name("shared"))
	in.KeyBy(func(v int) uint64 { return uint64(v) }).SinkBatch(3, func(*flow.Batch[int]) error { return nil }, flow.Name("keyed"))
	in.Broadcast().Sink(3, func(int) {}, flow.Name("broadcast"))
	in.Phase(1, func(*int) {}, flow.Name("phase"))
	// Each port under key and partition routing: the per-entry loops of Then, Filter and
	// ExpandErr (and so every level normalised to one function per entry), SinkErr and Sink
	// are written out one by one.
	keyed := in.KeyBy(func(v int) uint64 { return uint64(v) })
	keyed.Then(2, id, flow.Name("keyed then")).Sink(1, func(int) {})
	keyed.Filter(3, func(v int) (int, bool) { return v, v%2 == 0 }, flow.Name("keyed filter")).Sink(1, func(int) {})
	keyed.ExpandErr(2, func(v int, e *flow.Emitter[int]) error { e.Emit(v); return nil }, flow.Name("keyed expand")).Sink(1, func(int) {})
	keyed.SinkErr(3, func(int) error { return nil }, flow.Name("keyed sinkerr"))
	keyed.Sink(2, func(int) {}, flow.Name("keyed sink"))
	in.PartitionBy(func(v int) int { return v }).Sink(4, func(int) {}, flow.Name("partitioned sink"))
	start(t, g)
	publishAll(t, in, n, id)
	if err := g.Stop(); err != nil {
		t.Fatal(err)
	}
	handled := map[string]uint64{}
	for _, s := range g.Stats() {
		handled[s.Level] += s.Handled
		if s.Handled > s.In {
			t.Errorf("%s stage %d handled %d of the %d entries it read", s.Level, s.Stage, s.Handled, s.In)
		}
	}
	want := map[string]uint64{"shared": uint64(n), "keyed": uint64(n), "broadcast": 3 * uint64(n), "phase": uint64(n),
		"keyed then": uint64(n), "keyed filter": uint64(n), "keyed expand": uint64(n), "keyed sinkerr": uint64(n),
		"keyed sink": uint64(n), "partitioned sink": uint64(n)}
	for lv, w := range want {
		if handled[lv] != w {
			t.Errorf("level %s handled %d entries in all; want %d", lv, handled[lv], w)
		}
	}
}
