package flow_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/loopyring/loopyring/flow"
)

// This file checks flow's guarantees on random graphs: random DAGs of levels with random
// widths, routings, phases, ring capacities (down to 2), batch limits, publishers and stop
// times. With LOOPYRING_SOAK set to a duration (LOOPYRING_SOAK=10m) the same property runs
// again and again, with more entries, until the duration has passed.

// rgEntry is what flows through a random graph. id names the original entry (its origin,
// a publisher or a source stage, and its sequence there) and never changes. path hashes the
// stages and copies it went through; entries of one origin with equal paths went through the
// same stages, so their order is promised. ring is the level whose ring holds the entry;
// (ring, path, id) names one occurrence of an entry in one ring.
//
// Phases do not write to the entries: levels attached to the same rings without waiting for
// a phase read the entries while it runs (Then, Expand and Sink take them by value), so an
// in-place write would race with them. Each phase records the occurrences it released
// instead, and every later reader checks that record.
type rgEntry struct {
	id   uint64
	key  uint64
	path uint64
	ring int32
}

func (v *rgEntry) occurrence() [3]uint64 { return [3]uint64{uint64(v.ring), v.path, v.id} }

const (
	rgMaxPhases  = 6
	rgMaxOrigins = 16 // 2 inputs × 4 publishers, then source stages from 8
	rgSourceBase = 8
)

func rgID(origin, seq int) uint64 { return uint64(origin)<<32 | uint64(seq) }

func rgMix(h uint64, vs ...uint64) uint64 {
	for _, v := range vs {
		h ^= v + 0x9E3779B97F4A7C15 + h<<6 + h>>2
		h *= 0xBF58476D1CE4E5B9
		h ^= h >> 31
	}
	return h
}

type rgKind int

const (
	rgInput rgKind = iota
	rgSource
	rgExpand // Expand: one or two copies of each entry
	rgBatch  // ThenBatch: keeps three entries in four
	rgPhase  // Phase or PhaseErr: marks the entry in place
	rgSinkB  // SinkBatch
	rgSink   // Sink
)

// rgEdge is the model of one attachment: the ring-owning level read, and the phases over
// its rings that must have released an entry first.
type rgEdge struct {
	from  *rgLevel
	after []*rgLevel
}

type rgLevel struct {
	id     int
	name   string
	kind   rgKind
	width  int
	route  string // shared, key, partition, broadcast
	edges  []rgEdge
	done   sync.Map // phases: the occurrences released, [3]uint64 -> struct{}
	origin int      // inputs: the first origin of its publishers; sources: of its stages
	read   bool

	// Observation, by the level's stages.
	counts []atomic.Int32           // times each original entry reached the level
	order  []map[[2]uint64]uint64   // per stage: (origin, path) -> last sequence
	keys   []map[uint64]bool        // keyed levels, per stage: keys seen
	need   map[int32][]*rgLevel     // ring -> phases that must have released an entry
	stream *flow.Stream[rgEntry]    // the level's output stream (ring owners, phases)
	outE   []rgEdge                 // the model of stream's edges
	pub    *flow.Publisher[rgEntry] // inputs
	pubs   []rgPublisher            // inputs
	srcN   []atomic.Int64           // sources: entries each stage emitted
}

type rgPublisher struct {
	mode  int // 0 Publish, 1 PublishBatch, 2 TryPublish
	batch int
}

// rgRun is one random graph and what its run observed.
type rgRun struct {
	t      *rapid.T
	g      *flow.Graph
	levels []*rgLevel
	quota  int
	bad    atomic.Pointer[string]
	phases int
}

func (r *rgRun) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.bad.CompareAndSwap(nil, &msg)
}

func (r *rgRun) newLevel(kind rgKind, width int, route string, edges []rgEdge) *rgLevel {
	lv := &rgLevel{id: len(r.levels), kind: kind, width: width, route: route, edges: edges,
		need: map[int32][]*rgLevel{}}
	lv.name = fmt.Sprintf("L%d", lv.id)
	lv.counts = make([]atomic.Int32, rgMaxOrigins*r.quota)
	lv.order = make([]map[[2]uint64]uint64, width)
	lv.keys = make([]map[uint64]bool, width)
	for i := range width {
		lv.order[i] = map[[2]uint64]uint64{}
		lv.keys[i] = map[uint64]bool{}
	}
	for _, e := range edges {
		e.from.read = true
		for _, ph := range e.after {
			lv.need[int32(e.from.id)] = append(lv.need[int32(e.from.id)], ph)
		}
	}
	r.levels = append(r.levels, lv)
	return lv
}

// observe records that stage of lv received v (stage -1: the function does not know).
func (r *rgRun) observe(lv *rgLevel, stage int, v *rgEntry) {
	origin, seq := int(v.id>>32), int(v.id&(1<<32-1))
	if origin >= rgMaxOrigins || seq >= r.quota {
		r.violate("%s received an entry no publisher made: %#x", lv.name, v.id)
		return
	}
	lv.counts[origin*r.quota+seq].Add(1)
	for _, ph := range lv.need[v.ring] {
		if _, ok := ph.done.Load(v.occurrence()); !ok {
			r.violate("%s saw entry %#x of ring L%d before phase %s released it", lv.name, v.id, v.ring, ph.name)
		}
	}
	if stage < 0 {
		return
	}
	k := [2]uint64{uint64(origin), v.path}
	if last, ok := lv.order[stage][k]; ok && uint64(seq) <= last {
		r.violate("%s stage %d: origin %d path %#x: sequence %d after %d (per-upstream-stage order broken)",
			lv.name, stage, origin, v.path, seq, last)
	}
	lv.order[stage][k] = uint64(seq)
	switch lv.route {
	case "key":
		lv.keys[stage][v.key] = true
	case "partition":
		if want := rgPart(*v) % lv.width; stage != (want+lv.width)%lv.width {
			r.violate("%s: partition %d reached stage %d of %d", lv.name, rgPart(*v), stage, lv.width)
		}
	}
}

// rgPart is the partition function of partitioned levels; it returns negative values too.
func rgPart(v rgEntry) int { return int(v.key) - 20 }

func keep(lv *rgLevel, id uint64) bool  { return rgMix(uint64(lv.id), id)%4 != 0 }
func copies(lv *rgLevel, id uint64) int { return 1 + int(rgMix(uint64(lv.id)+99, id)%2) }
func emitted(lv *rgLevel, v *rgEntry, stage, c int) rgEntry {
	return rgEntry{id: v.id, key: v.key, path: rgMix(v.path, uint64(lv.id), uint64(stage), uint64(c)), ring: int32(lv.id)}
}

// route applies a level's routing to the stream it reads.
func (r *rgRun) route(s *flow.Stream[rgEntry], route string) *flow.Stream[rgEntry] {
	switch route {
	case "key":
		return s.KeyBy(func(v rgEntry) uint64 { return v.key })
	case "partition":
		return s.PartitionBy(rgPart)
	case "broadcast":
		return s.Broadcast()
	}
	return s
}

type rgStream struct {
	s     *flow.Stream[rgEntry]
	edges []rgEdge
}

func mergeModel(a, b []rgEdge) []rgEdge {
	out := append([]rgEdge(nil), a...)
	for _, e := range b {
		found := false
		for i := range out {
			if out[i].from == e.from {
				found = true
				after := append([]*rgLevel(nil), out[i].after...)
				for _, ph := range e.after {
					dup := false
					for _, x := range after {
						dup = dup || x == ph
					}
					if !dup {
						after = append(after, ph)
					}
				}
				out[i].after = after
			}
		}
		if !found {
			out = append(out, rgEdge{from: e.from, after: append([]*rgLevel(nil), e.after...)})
		}
	}
	return out
}

// build draws a random graph.
func (r *rgRun) build() {
	t := r.t
	r.g = flow.New()
	caps := []int{2, 4, 8, 16, 64, 1024}
	levelOpts := func(lv *rgLevel, ring bool) []flow.Option {
		opts := []flow.Option{flow.Name(lv.name)}
		if ring {
			opts = append(opts, flow.Capacity(rapid.SampledFrom(caps).Draw(t, "capacity")))
		}
		if rapid.Bool().Draw(t, "set max batch") {
			opts = append(opts, flow.MaxBatch(rapid.IntRange(1, 300).Draw(t, "max batch")))
		}
		if rapid.Bool().Draw(t, "no spin") {
			opts = append(opts, flow.Spin(0))
		}
		return opts
	}
	var pool []rgStream
	origin := 0
	for range rapid.IntRange(1, 2).Draw(t, "inputs") {
		lv := r.newLevel(rgInput, 1, "", nil)
		lv.origin = origin
		lv.pub = flow.Input[rgEntry](r.g, levelOpts(lv, true)[:2]...)
		for range rapid.IntRange(1, 4).Draw(t, "publishers") {
			lv.pubs = append(lv.pubs, rgPublisher{
				mode:  rapid.IntRange(0, 2).Draw(t, "publisher mode"),
				batch: rapid.IntRange(1, 8).Draw(t, "publisher batch"),
			})
		}
		origin += 4
		lv.stream, lv.outE = lv.pub.Stream, []rgEdge{{from: lv}}
		pool = append(pool, rgStream{lv.stream, lv.outE})
	}
	if rapid.Bool().Draw(t, "source") {
		lv := r.newLevel(rgSource, rapid.IntRange(1, 2).Draw(t, "source width"), "", nil)
		lv.origin = rgSourceBase
		lv.srcN = make([]atomic.Int64, lv.width)
		finish := rapid.Bool().Draw(t, "sources finish")
		keys := uint64(rapid.IntRange(1, 40).Draw(t, "source keys"))
		quota := r.quota
		lv.stream = flow.Source(r.g, lv.width, func(s *flow.SourceStage[rgEntry]) error {
			o := rgSourceBase + s.Index()
			for i := range quota {
				if s.Stopping() {
					break
				}
				id := rgID(o, i)
				if err := s.Emit(rgEntry{id: id, key: rgMix(id) % keys, ring: int32(lv.id)}); err != nil {
					break
				}
				lv.srcN[s.Index()].Add(1)
				if i%64 == 63 {
					s.Flush()
				}
			}
			if finish {
				s.Finish()
			}
			return nil
		}, levelOpts(lv, true)...)
		lv.outE = []rgEdge{{from: lv}}
		pool = append(pool, rgStream{lv.stream, lv.outE})
	}
	totalStages := 0
	for range rapid.IntRange(1, 6).Draw(t, "levels") {
		in := pool[rapid.IntRange(0, len(pool)-1).Draw(t, "read")]
		if len(pool) > 1 && rapid.IntRange(0, 3).Draw(t, "merge") == 0 {
			other := pool[rapid.IntRange(0, len(pool)-1).Draw(t, "merge with")]
			in = rgStream{flow.Merge(in.s, other.s), mergeModel(in.edges, other.edges)}
		}
		kind := rapid.SampledFrom([]rgKind{rgExpand, rgBatch, rgPhase, rgSinkB, rgSink}).Draw(t, "kind")
		if kind == rgPhase && r.phases == rgMaxPhases {
			kind = rgExpand
		}
		width := rapid.IntRange(1, 3).Draw(t, "width")
		if totalStages+width > 12 {
			width = 1
		}
		totalStages += width
		route := "shared"
		if kind != rgPhase {
			route = rapid.SampledFrom([]string{"shared", "key", "partition", "broadcast"}).Draw(t, "route")
		}
		lv := r.newLevel(kind, width, route, in.edges)
		src := r.route(in.s, route)
		switch kind {
		case rgExpand:
			lv.stream = src.Expand(width, func(v rgEntry, e *flow.Emitter[rgEntry]) {
				r.observe(lv, e.Stage().Index(), &v)
				for c := range copies(lv, v.id) {
					e.Emit(emitted(lv, &v, e.Stage().Index(), c))
				}
			}, levelOpts(lv, true)...)
			lv.outE = []rgEdge{{from: lv}}
		case rgBatch:
			lv.stream = src.ThenBatch(width, func(b *flow.Batch[rgEntry], e *flow.Emitter[rgEntry]) error {
				for i := range b.Len() {
					v := b.At(i)
					r.observe(lv, b.Stage().Index(), v)
					if keep(lv, v.id) {
						e.Emit(emitted(lv, v, b.Stage().Index(), 0))
					}
				}
				return nil
			}, levelOpts(lv, true)...)
			lv.outE = []rgEdge{{from: lv}}
		case rgPhase:
			r.phases++
			mark := func(v *rgEntry) {
				r.observe(lv, -1, v)
				lv.done.Store(v.occurrence(), struct{}{})
			}
			if rapid.Bool().Draw(t, "phase can fail") {
				lv.stream = src.PhaseErr(width, func(v *rgEntry) error { mark(v); return nil }, levelOpts(lv, false)...)
			} else {
				lv.stream = src.Phase(width, mark, levelOpts(lv, false)...)
			}
			for _, e := range in.edges {
				lv.outE = append(lv.outE, rgEdge{from: e.from, after: []*rgLevel{lv}})
			}
		case rgSinkB:
			src.SinkBatch(width, func(b *flow.Batch[rgEntry]) error {
				for i := range b.Len() {
					r.observe(lv, b.Stage().Index(), b.At(i))
				}
				return nil
			}, levelOpts(lv, false)...)
		case rgSink:
			src.Sink(width, func(v rgEntry) { r.observe(lv, -1, &v) }, levelOpts(lv, false)...)
		}
		if lv.stream != nil {
			pool = append(pool, rgStream{lv.stream, lv.outE})
		}
	}
	// Every ring must be read: end each unread ring-owning level with a sink.
	for _, lv := range append([]*rgLevel(nil), r.levels...) {
		if lv.read || lv.kind == rgPhase || lv.kind == rgSink || lv.kind == rgSinkB {
			continue
		}
		width := rapid.IntRange(1, 2).Draw(t, "final sink width")
		route := rapid.SampledFrom([]string{"shared", "key", "partition", "broadcast"}).Draw(t, "final sink route")
		sink := r.newLevel(rgSinkB, width, route, lv.outE)
		r.route(lv.stream, route).SinkBatch(width, func(b *flow.Batch[rgEntry]) error {
			for i := range b.Len() {
				r.observe(sink, b.Stage().Index(), b.At(i))
			}
			return nil
		}, flow.Name(sink.name))
	}
}

// expectIn is how many times level lv must receive original entry id, given what each
// origin committed: the model of routing (broadcast multiplies by the width), fan-out,
// fan-in, copies and filters.
func (r *rgRun) expectIn(lv *rgLevel, id uint64, committed []int) int {
	n := 0
	mult := 1
	if lv.route == "broadcast" {
		mult = lv.width
	}
	for _, e := range lv.edges {
		n += mult * r.expectOut(e.from, id, committed)
	}
	return n
}

func (r *rgRun) expectOut(lv *rgLevel, id uint64, committed []int) int {
	origin, seq := int(id>>32), int(id&(1<<32-1))
	switch lv.kind {
	case rgInput:
		if origin >= lv.origin && origin < lv.origin+len(lv.pubs) && seq < committed[origin] {
			return 1
		}
		return 0
	case rgSource:
		if origin >= lv.origin && origin < lv.origin+lv.width && seq < committed[origin] {
			return 1
		}
		return 0
	case rgExpand:
		return copies(lv, id) * r.expectIn(lv, id, committed)
	case rgBatch:
		if keep(lv, id) {
			return r.expectIn(lv, id, committed)
		}
		return 0
	}
	panic("expectOut of a level without a ring")
}

// rgProperty builds a random graph, publishes into it from every publisher, stops it at a
// random moment (or once everything is published) by Stop or by cancelling its context, and
// checks every observation against the model.
func rgProperty(quotaMax int) func(*rapid.T) {
	return func(t *rapid.T) {
		r := &rgRun{t: t, quota: rapid.IntRange(1, quotaMax).Draw(t, "entries per publisher")}
		r.build()
		stopMode := rapid.SampledFrom([]string{"drain", "stop", "cancel"}).Draw(t, "stop mode")
		stopAfter := time.Duration(rapid.IntRange(0, 3000).Draw(t, "stop after µs")) * time.Microsecond
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := r.g.Start(ctx); err != nil {
			t.Fatalf("Start: %v\ntopology:\n%s", err, r.g.String())
		}
		committed := make([]int, rgMaxOrigins)
		var wg sync.WaitGroup
		for _, lv := range r.levels {
			if lv.kind != rgInput {
				continue
			}
			keys := uint64(rapid.IntRange(1, 40).Draw(t, "keys"))
			for p, pub := range lv.pubs {
				o := lv.origin + p
				wg.Go(func() { committed[o] = r.publish(lv.pub, pub, o, keys) })
			}
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		var stopErr error
		switch stopMode {
		case "drain":
			doneWithin(t, r.g, done, "publishing every entry", drainLimit)
			for _, lv := range r.levels { // and let the sources emit theirs
				for i := range lv.srcN {
					deadline := time.Now().Add(drainLimit)
					for lv.srcN[i].Load() < int64(r.quota) && time.Now().Before(deadline) {
						time.Sleep(100 * time.Microsecond)
					}
				}
			}
			stopErr = stopWithin(t, r.g, drainLimit)
		case "stop":
			time.Sleep(stopAfter)
			stopErr = stopWithin(t, r.g, drainLimit)
		case "cancel":
			time.Sleep(stopAfter)
			cancel()
			waitWithin(t, r.g, drainLimit)
			stopErr = r.g.Wait()
		}
		doneWithin(t, r.g, done, "publishers after the stop", drainLimit)
		topo := r.g.String()
		if stopErr != nil && !(stopMode == "cancel" && errors.Is(stopErr, context.Canceled)) {
			t.Fatalf("%s: %v\ntopology:\n%s", stopMode, stopErr, topo)
		}
		for _, lv := range r.levels {
			for i := range lv.srcN {
				committed[lv.origin+i] = int(lv.srcN[i].Load())
			}
		}
		if msg := r.bad.Load(); msg != nil {
			t.Fatalf("%s\ntopology:\n%sstages:\n%s", *msg, topo, statsText(r.g))
		}
		for _, s := range r.g.Stats() {
			if s.Errors != 0 || s.Queue != 0 {
				t.Fatalf("after the stop, stage %s/%d reports %d errors and a queue of %d\ntopology:\n%s",
					s.Level, s.Stage, s.Errors, s.Queue, topo)
			}
		}
		r.check(committed, topo)
	}
}

// publish runs one publisher until its quota is published or the graph stops, and returns
// how many of its entries were committed: always a prefix of its sequence.
func (r *rgRun) publish(in *flow.Publisher[rgEntry], pub rgPublisher, origin int, keys uint64) int {
	mk := func(i int) rgEntry {
		id := rgID(origin, i)
		return rgEntry{id: id, key: rgMix(id) % keys, ring: int32(r.inputLevel(in))}
	}
	n := 0
	batch := make([]rgEntry, 0, pub.batch)
	for n < r.quota {
		var err error
		switch pub.mode {
		case 0:
			if err = in.Publish(context.Background(), mk(n)); err == nil {
				n++
			}
		case 1:
			batch = batch[:0]
			for i := n; i < min(n+pub.batch, r.quota); i++ {
				batch = append(batch, mk(i))
			}
			var k int
			k, err = in.PublishBatch(context.Background(), batch)
			n += k
		case 2:
			if err = in.TryPublish(mk(n)); err == nil {
				n++
			} else if errors.Is(err, flow.ErrFull) {
				err = nil
				time.Sleep(10 * time.Microsecond)
			}
		}
		if err != nil {
			if !errors.Is(err, flow.ErrStopped) {
				r.violate("publisher %d: %v", origin, err)
			}
			break
		}
	}
	return n
}

func (r *rgRun) inputLevel(in *flow.Publisher[rgEntry]) int {
	for _, lv := range r.levels {
		if lv.pub == in {
			return lv.id
		}
	}
	return -1
}

func (r *rgRun) check(committed []int, topo string) {
	t := r.t
	for _, lv := range r.levels {
		if lv.kind == rgInput || lv.kind == rgSource {
			continue
		}
		for o := range rgMaxOrigins {
			for s := range r.quota {
				id := rgID(o, s)
				want := r.expectIn(lv, id, committed)
				if got := int(lv.counts[o*r.quota+s].Load()); got != want {
					t.Fatalf("%s (%s, ×%d) received entry %d of origin %d %d times, want %d (origin committed %d)\ntopology:\n%sstages:\n%s",
						lv.name, lv.route, lv.width, s, o, got, want, committed[o], topo, statsText(r.g))
				}
			}
		}
		if lv.route == "key" {
			owner := map[uint64]int{}
			for stage, ks := range lv.keys {
				for k := range ks {
					if prev, ok := owner[k]; ok {
						t.Fatalf("%s: key %d reached stages %d and %d\ntopology:\n%s", lv.name, k, prev, stage, topo)
					}
					owner[k] = stage
				}
			}
		}
	}
}

// rgSoak returns how long to soak (LOOPYRING_SOAK), or 0.
func rgSoak(t *testing.T) time.Duration {
	v := os.Getenv("LOOPYRING_SOAK")
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("LOOPYRING_SOAK=%q: %v", v, err)
	}
	return d
}

func TestRandomGraphs(t *testing.T) {
	quota := scale(4000, 300)
	if raceEnabled {
		quota = scale(1500, 200)
	}
	soak := rgSoak(t)
	if soak == 0 {
		rapid.Check(t, rgProperty(quota))
		return
	}
	end := time.Now().Add(soak)
	if dl, ok := t.Deadline(); ok {
		// The round in flight when the soak ends must still finish before go test's -timeout.
		if cut := dl.Add(-min(2*time.Minute, time.Until(dl)/4)); cut.Before(end) {
			end = cut
			t.Logf("go test's -timeout cuts the soak to %v; pass -timeout 0 to soak longer", time.Until(end).Round(time.Second))
		}
	}
	t.Logf("soaking for %v (LOOPYRING_SOAK)", time.Until(end).Round(time.Second))
	for i := 0; i == 0 || time.Now().Before(end); i++ {
		rapid.Check(t, rgProperty(5*quota))
		if t.Failed() {
			return
		}
		t.Logf("soak round %d passed", i)
	}
}
