package kafka

// The tracker against a reference that keeps every emitted record's position in a slice.

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// model is the reference: the position of every emitted record, by emission index, and
// what each owned partition has committed.
type model struct {
	emitted   []*kgo.Record
	owned     map[topicPartition]bool
	committed map[topicPartition]int64
	settled   int64
}

// want returns what the tracker should collect after settling c: for each owned partition,
// one past the highest offset among its records emitted below c while it was owned since its
// last assignment, where that is ahead of its last commit. from[tp] is the first emission
// index of the current assignment.
func (m *model) want(c int64, from map[topicPartition]int64) map[topicPartition]int64 {
	out := map[topicPartition]int64{}
	for tp := range m.owned {
		best := int64(-1)
		for i := from[tp]; i < c && i < int64(len(m.emitted)); i++ {
			r := m.emitted[i]
			if (topicPartition{r.Topic, r.Partition}) == tp {
				best = max(best, r.Offset+1)
			}
		}
		if best > m.committed[tp] {
			out[tp] = best
		}
	}
	return out
}

// runTracker drives a tracker and the model with ops, one byte each, and fails on the first
// difference. Partitions are 0..3 of topics "a" and "b".
func runTracker(t *testing.T, ops []byte) {
	tr := newTracker()
	m := &model{owned: map[topicPartition]bool{}, committed: map[topicPartition]int64{}}
	from := map[topicPartition]int64{}
	next := map[topicPartition]int64{} // the next offset of each partition in the log
	epoch := map[topicPartition]int32{}
	tpOf := func(b byte) topicPartition { return topicPartition{[]string{"a", "b"}[b>>2&1], int32(b & 3)} }
	refuse := -1 // publish refuses the record at this position of the next batch
	for _, op := range ops {
		tp := tpOf(op >> 3)
		switch op & 7 {
		case 0, 1, 2: // a poll: a few records of two partitions, as a fetch brings them
			var recs []*kgo.Record
			for _, p := range []topicPartition{tp, tpOf(op>>3 + 1)} {
				for range int(op&3) + 1 {
					next[p] += int64(op>>6) + 1 // a gap where records were compacted away
					recs = append(recs, &kgo.Record{Topic: p.topic, Partition: p.part, Offset: next[p] - 1, LeaderEpoch: epoch[p]})
				}
			}
			k := 0
			n := tr.emit(recs, func(r *kgo.Record) error {
				if k == refuse {
					return errors.New("stopping")
				}
				k++
				return nil
			})
			var took []*kgo.Record
			for _, r := range recs {
				if len(took) == refuse {
					break
				}
				if m.owned[topicPartition{r.Topic, r.Partition}] {
					took = append(took, r)
				}
			}
			if n != len(took) {
				t.Fatalf("emit took %d records; want %d", n, len(took))
			}
			m.emitted = append(m.emitted, took...)
			refuse = -1
		case 3: // the graph finished some more: settle and commit what is collected
			c := m.settled + int64(op>>3)%8
			c = min(c, int64(len(m.emitted)))
			m.settled = c
			cm := tr.collect(c, nil)
			want := m.want(c, from)
			got := map[topicPartition]int64{}
			for i, p := range cm.parts {
				got[p.topicPartition] = cm.at[i].Offset
			}
			if len(got) != len(want) {
				t.Fatalf("settled %d: collected %v; want %v", c, got, want)
			}
			for tp, off := range want {
				if got[tp] != off {
					t.Fatalf("settled %d: collected %v; want %v", c, got, want)
				}
			}
			tr.acked(cm, func(topic string, part int32) bool { return part != 3 || op&0x80 == 0 })
			for tp, off := range want {
				if tp.part != 3 || op&0x80 == 0 {
					m.committed[tp] = off
				}
			}
		case 4: // assigned
			tr.assign(map[string][]int32{tp.topic: {tp.part}})
			if !m.owned[tp] {
				m.owned[tp] = true
				m.committed[tp] = -1
				from[tp] = int64(len(m.emitted))
			}
		case 5: // revoked: the partition's records all lie below the target
			ps, target := tr.revoke(map[string][]int32{tp.topic: {tp.part}})
			if m.owned[tp] != (len(ps) == 1) {
				t.Fatalf("revoke %v returned %d partitions; owned %v", tp, len(ps), m.owned[tp])
			}
			for i := from[tp]; i < int64(len(m.emitted)); i++ {
				if r := m.emitted[i]; m.owned[tp] && (topicPartition{r.Topic, r.Partition}) == tp && i >= target {
					t.Fatalf("revoke %v: target %d, but record %d is the partition's", tp, target, i)
				}
			}
			delete(m.owned, tp)
		case 6: // lost
			tr.lost(map[string][]int32{tp.topic: {tp.part}})
			delete(m.owned, tp)
		case 7: // a new leader epoch, or a refused record in the next poll
			if op&0x80 != 0 {
				refuse = int(op>>3) & 7
			} else {
				epoch[tp]++
			}
		}
		if got, want := tr.emittedCount(), int64(len(m.emitted)); got != want {
			t.Fatalf("emitted %d; want %d", got, want)
		}
	}
}

var trackerSeeds = map[string][]byte{
	"one partition":        {4, 0, 1, 2, 3, 0x3b, 3, 0x7b},
	"two interleaved":      {4, 0x0c, 0, 0x08, 0, 0x1b, 0x1b, 0x3b, 0x3b},
	"revoke mid-flight":    {4, 0x0c, 0, 0x08, 0x0b, 5, 0x3b, 0x3b, 0x3b},
	"lost then reassigned": {4, 0, 0x1b, 6, 0, 4, 0, 0x3b, 0x3b},
	"gaps and epochs":      {4, 0x40, 7, 0x80, 0x1b, 7, 0xc2, 0x3b, 0x3b},
	"refused":              {4, 0x0c, 0x9f, 2, 0x3b, 0x3b, 2, 0x3b},
	"failed commit":        {0x1c, 0x18, 0x83, 0x1b, 0x3b, 0x3b, 0x03},
	"part of a run":        {4, 2, 0x0b, 0x0b, 0x1b},
}

// TestTrackerMatchesModel runs the seeds as a table.
func TestTrackerMatchesModel(t *testing.T) {
	for name, ops := range trackerSeeds {
		t.Run(name, func(t *testing.T) { runTracker(t, ops) })
	}
}

// FuzzTracker drives the tracker with arbitrary interleavings of polls, settles, commits and
// rebalances.
func FuzzTracker(f *testing.F) {
	for _, ops := range trackerSeeds {
		f.Add(ops)
	}
	f.Fuzz(runTracker)
}
