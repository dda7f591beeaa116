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
	want := map[string]uint64{"shared": uint64(n), "keyed": uint64(n), "broadcast": 3 * uint64(n), "phase": uint64(n)}
	for lv, w := range want {
		if handled[lv] != w {
			t.Errorf("level %s handled %d entries in all; want %d", lv, handled[lv], w)
		}
	}
}
