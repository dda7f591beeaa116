package flow

// This file is an internal test (package flow) on purpose: routing is decided by an
// unexported selector, and fuzzing it through whole graphs would start a graph per input.
// The random graphs in delivery_test.go check the same promise end to end.

import (
	"testing"

	"github.com/loopyring/loopyring/ring"
)

// routeCases seed FuzzRouting and run as a table test.
var routeCases = []struct {
	name  string
	key   uint64
	width uint16
	part  int64
	lo    int64
	n     uint8
}{
	{"zero key one stage", 0, 1, 0, 0, 1},
	{"small key", 1, 2, 1, 0, 8},
	{"max key", 1<<64 - 1, 7, -1, 5, 33},
	{"high bit", 1 << 63, 64, -1 << 63, 1 << 40, 64},
	{"golden ratio", 0x9E3779B97F4A7C15, 3, 1<<63 - 1, 1<<62 - 9, 17},
	{"wide level", 12345, 1000, -999, 999, 200},
	{"empty range", 42, 5, 5, 100, 0},
}

// checkRouting checks, for a level of width stages, that key routing gives key to exactly
// one stage and partition routing gives part to stage part mod width, and that every routing
// divides a range of sequences as promised: shared, key and partition routing give each
// sequence to exactly one stage, broadcast to every stage, and the per-entry and batch views
// of a stage's share agree, in publication order.
func checkRouting(t *testing.T, key uint64, width uint16, part int64, lo int64, n uint8) {
	w := int64(width%1024) + 1
	if lo < 0 {
		lo = -(lo + 1)
	}
	lo %= 1 << 62 // sequences start at 0 and grow; leave room for lo+n
	ident := func(v uint64) uint64 { return v }

	owners := 0
	for i := range w {
		s := selector[uint64]{h: &Stage{st: &stage{idx: int(i)}}, cur: new(int64), route: routeKey, idx: i, width: w, key: ident}
		if s.owns(key) {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("key %#x on %d stages: %d stages own it, want exactly 1", key, w, owners)
	}
	// The partition function's result as an int: on 32-bit platforms part is truncated,
	// which the modulo below follows.
	partOf := func(v uint64) int { return int(int64(v)) }
	want := int64(int(part)) % w
	if want < 0 {
		want += w
	}
	for i := range w {
		s := selector[uint64]{h: &Stage{st: &stage{idx: int(i)}}, cur: new(int64), route: routePartition, idx: i, width: w, part: partOf}
		if got := s.owns(uint64(part)); got != (i == want) {
			t.Fatalf("partition %d on %d stages: stage %d owns it = %v, want only stage %d", part, w, i, got, want)
		}
	}

	const capacity = 256
	buf, err := ring.New[uint64](capacity)
	if err != nil {
		t.Fatal(err)
	}
	hi := lo + int64(n)
	for seq := lo; seq < hi; seq++ {
		*buf.At(seq) = key + uint64(seq-lo)*0x2545F4914F6CDD1D // distinct, spread keys
	}
	seqs := make([]int64, 0, capacity)
	for _, r := range []route{routeShared, routeKey, routeBroadcast, routePartition} {
		seen := make(map[int64]int, n)
		for i := range w {
			s := selector[uint64]{h: &Stage{st: &stage{idx: int(i)}}, cur: new(int64), route: r, idx: i, width: w, key: ident}
			if r == routePartition {
				s.key, s.part = nil, partOf
			}
			var each []*uint64
			last := lo - 1
			s.each(buf, lo, hi, func(seq int64, v *uint64) {
				if seq < lo || seq >= hi || seq <= last {
					t.Fatalf("%s routing, stage %d/%d: sequence %d outside [%d, %d) or out of order", r, i, w, seq, lo, hi)
				}
				if v != buf.At(seq) {
					t.Fatalf("%s routing: sequence %d handed the wrong slot", r, seq)
				}
				if (r == routeKey || r == routePartition) && !s.owns(*v) {
					t.Fatalf("%s routing: stage %d took sequence %d whose key it does not own", r, i, seq)
				}
				last = seq
				seen[seq]++
				each = append(each, v)
			})
			var b Batch[uint64]
			seqs = seqs[:0]
			s.fill(&b, buf, lo, hi, &seqs)
			if b.Len() != len(each) || b.Stage().Index() != int(i) {
				t.Fatalf("%s routing, stage %d/%d: batch of %d (stage %d), per-entry view %d",
					r, i, w, b.Len(), b.Stage().Index(), len(each))
			}
			for j := range b.Len() {
				if b.At(j) != each[j] {
					t.Fatalf("%s routing, stage %d: batch entry %d differs from the per-entry view", r, i, j)
				}
			}
		}
		want := 1
		if r == routeBroadcast {
			want = int(w)
		}
		for seq := lo; seq < hi; seq++ {
			if seen[seq] != want {
				t.Fatalf("%s routing over %d stages: sequence %d taken %d times, want %d", r, w, seq, seen[seq], want)
			}
		}
	}
}

func TestRoutingPartitions(t *testing.T) {
	for _, tc := range routeCases {
		t.Run(tc.name, func(t *testing.T) { checkRouting(t, tc.key, tc.width, tc.part, tc.lo, tc.n) })
	}
}

func FuzzRouting(f *testing.F) {
	for _, tc := range routeCases {
		f.Add(tc.key, tc.width, tc.part, tc.lo, tc.n)
	}
	f.Fuzz(checkRouting)
}

// each calls f for every sequence in [lo, hi) that belongs to the stage: the loop every
// port writes out (mapPort, eachPort,
// errPort, consumePort, valuePort), once, for the test to compare with the batch view.
func (s *selector[T]) each(buf *ring.Buffer[T], lo, hi int64, f func(seq int64, v *T)) {
	if s.keyed() {
		for seq := s.owned(buf, lo, hi); seq < hi; seq = s.owned(buf, seq+1, hi) {
			f(seq, buf.At(seq))
		}
		return
	}
	seq, step := s.span(lo)
	for ; seq < hi; seq += step {
		f(seq, buf.At(seq))
	}
}
