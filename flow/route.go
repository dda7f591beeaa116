package flow

import (
	"iter"
	"math/bits"

	"github.com/loopyring/loopyring/ring"
)

// selector picks, for one stage, the entries of an upstream ring that its level's routing
// gives it. Shared routing deals sequences round-robin (stage i takes seq ≡ i mod width),
// which needs no coordination between the stages and keeps each stage's share in order;
// a shared work queue with a claim counter was rejected because every batch would then
// contend on one cache line.
type selector[T any] struct {
	h     *Stage
	cur   *int64 // the stage's current sequence: set before a key function runs, for failure reports
	route route
	idx   int64
	width int64
	key   func(T) uint64
	part  func(T) int
}

func newSelector[T any](st *stage, key func(T) uint64, part func(T) int) selector[T] {
	s := selector[T]{h: &st.h, cur: &st.cur, route: st.lv.route, idx: int64(st.idx), width: int64(st.lv.n), key: key, part: part}
	if s.width == 1 || st.lv.kind == kindPhase {
		s.route = routeBroadcast // one reader takes everything
	}
	return s
}

// owned returns the first sequence from seq on, below hi, whose entry key or partition
// routing gives to the stage, or hi. It sets the stage's current sequence to each entry it
// looks at, so that a panicking key function fails that entry.
func (s *selector[T]) owned(buf *ring.Buffer[T], seq, hi int64) int64 {
	for ; seq < hi; seq++ {
		*s.cur = seq
		if s.owns(*buf.At(seq)) {
			return seq
		}
	}
	return hi
}

// keyed reports whether the stage must look at each entry to know whether it is its own.
func (s *selector[T]) keyed() bool { return s.route == routeKey || s.route == routePartition }

// span returns, for broadcast and shared routing, the stage's first sequence from lo on and
// the step between its sequences.
func (s *selector[T]) span(lo int64) (first, step int64) {
	if s.route == routeShared {
		return s.first(lo), s.width
	}
	return lo, 1
}

// first returns the first sequence ≥ lo that shared routing deals to this stage.
func (s *selector[T]) first(lo int64) int64 {
	r := lo % s.width
	if r < 0 {
		r += s.width
	}
	return lo + (s.idx-r+s.width)%s.width
}

// owns reports whether v's key (or partition) selects this stage. A key is mixed (a 64-bit
// multiplicative hash) and reduced to [0, width) with a multiply-shift instead of a
// division; a partition is taken modulo the width.
func (s *selector[T]) owns(v T) bool {
	if s.part != nil {
		p := int64(s.part(v)) % s.width
		if p < 0 {
			p += s.width
		}
		return p == s.idx
	}
	h := s.key(v) * 0x9E3779B97F4A7C15
	h ^= h >> 29
	hi, _ := bits.Mul64(h, uint64(s.width))
	return int64(hi) == s.idx
}

// Batch is a batch function's view of the entries a stage received in one batch: the whole
// available range of one input ring, less the entries that routing gives to other stages.
// It is valid only during the call; entries are read in place, never copied.
type Batch[T any] struct {
	buf   *ring.Buffer[T]
	first int64
	step  int64
	n     int
	seqs  []int64 // key routing: the sequences taken, in order
	stage *Stage
}

// Stage returns the stage processing the batch.
func (b *Batch[T]) Stage() *Stage { return b.stage }

// All returns an iterator over the batch's entries, in order, with their indexes: the range
// form of At.
//
//	for _, v := range b.All() { total += v.Cents }
func (b *Batch[T]) All() iter.Seq2[int, *T] {
	return func(yield func(int, *T) bool) {
		for i := range b.n {
			if !yield(i, b.At(i)) {
				return
			}
		}
	}
}

// Len returns the number of entries in the batch.
func (b *Batch[T]) Len() int { return b.n }

// At returns a pointer to entry i, 0 ≤ i < Len(), in the order the upstream stage published.
func (b *Batch[T]) At(i int) *T {
	if i < 0 || i >= b.n {
		panic("flow: batch index out of range")
	}
	if b.seqs != nil {
		return b.buf.At(b.seqs[i])
	}
	return b.buf.At(b.first + int64(i)*b.step)
}

// fill sets b to the entries of [lo, hi) that s gives to its stage. Under key and partition
// routing it appends their sequences to *seqs, so that those gathered before a key function
// panics are kept for the call that goes on after the failing entry (see batchPort).
func (s *selector[T]) fill(b *Batch[T], buf *ring.Buffer[T], lo, hi int64, seqs *[]int64) {
	*b = Batch[T]{buf: buf, stage: s.h}
	switch s.route {
	case routeBroadcast:
		b.first, b.step, b.n = lo, 1, int(hi-lo)
	case routeShared:
		b.first, b.step = s.first(lo), s.width
		if b.first < hi {
			b.n = int((hi-b.first-1)/s.width) + 1
		}
	case routeKey, routePartition:
		for seq := lo; seq < hi; seq++ {
			*s.cur = seq
			if s.owns(*buf.At(seq)) {
				*seqs = append(*seqs, seq)
			}
		}
		b.seqs, b.n = *seqs, len(*seqs)
	}
}

// batchPort returns the port function of a batch level: it gathers the stage's share of
// each range into one Batch view (without copying entries) and calls fn once with it.
func (s *selector[T]) batchPort(st *stage, buf *ring.Buffer[T], fn func(*Batch[T]) error) func(lo, hi int64) {
	var b Batch[T]
	seqs := make([]int64, 0, min(st.lv.opts.maxBatch, buf.Cap())) // a reader never gets more than a ring
	return func(lo, hi int64) {
		// A key function that panicked at st.cur left st.gathering set: this call goes on
		// after that entry, and keeps the sequences gathered before it.
		if !st.gathering {
			seqs = seqs[:0]
		}
		st.gathering = true
		s.fill(&b, buf, lo, hi, &seqs)
		st.gathering = false
		if b.n == 0 {
			return
		}
		// A failure is reported at the batch's first entry: not lo, which after a key
		// function failed is the entry after it (or the range's end), nor the range's start,
		// which routing may have given to another stage.
		st.taken += int64(b.n)
		st.cur = b.first
		if b.seqs != nil {
			st.cur = b.seqs[0]
		}
		if err := fn(&b); err != nil {
			st.fail(st.cur, err, nil, nil)
		}
	}
}
