package kafka_test

// The source's delivery and commits: every record reaches the graph, every commit covers
// only what the graph finished, and Stop commits the end.

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSourceDeliversEverythingAndCommitsTheEnd: every record reaches the sink, once unless a
// commit failed (the two consumers rebalance as the second joins), and once Stop returns
// the group has committed the end of every partition.
func TestSourceDeliversEverythingAndCommitsTheEnd(t *testing.T) {
	n := scale(20000, 2000)
	c := newCluster(t, 8, "in")
	c.produce("in", n, 100)
	got := newSeen()
	var f failures
	cfg := c.sourceConfig("g", "in")
	cfg.OnCommit = f.watch(nil)
	g := flow.New()
	kafka.Source(g, 2, cfg, decodeIn).
		Sink(2, func(v in) { got.add(v.part, v.off) })
	start(t, g)
	waitFor(t, "every record", func() bool { _, d := got.total(); return d == n })
	stop(t, g)
	if a, d := got.total(); d != n || a != n && f.none() {
		t.Errorf("%d arrivals of %d distinct records; want %d of each", a, d, n)
	}
	c.checkCommittedAtEnd("g", "in")
}

// doneCheck follows, for each record, how much of the graph is done with it, and checks at
// every commit that each committed offset follows only records the graph is done with: the
// at-least-once promise.
type doneCheck struct {
	t       *testing.T
	n       int // records in the topic
	mu      sync.Mutex
	need    map[int32]map[int64]int // arrivals still to come before the record is done
	done    int                     // records whose arrivals all came
	prefix  map[int32]int64         // every offset below is done
	partial int                     // commits made while some record was not done
	bad     int
}

func newDoneCheck(t *testing.T, n int) *doneCheck {
	return &doneCheck{t: t, n: n, need: map[int32]map[int64]int{}, prefix: map[int32]int64{}}
}

// expect says, before the first of them, that the record at part/off is done after k more
// arrivals; a record read again needs those of its new reading too.
func (d *doneCheck) expect(part int32, off int64, k int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.need[part] == nil {
		d.need[part] = map[int64]int{}
	}
	d.need[part][off] += k
}

func (d *doneCheck) arrive(part int32, off int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.need[part][off]--; d.need[part][off] == 0 {
		d.done++
	}
}

func (d *doneCheck) doneCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}

func (d *doneCheck) partialCommits() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.partial
}

// onCommit is a SourceConfig.OnCommit.
func (d *doneCheck) onCommit(offsets map[string]map[int32]int64, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done < d.n {
		d.partial++
	}
	for _, ps := range offsets {
		for p, at := range ps {
			for {
				k, ok := d.need[p][d.prefix[p]]
				if !ok || k > 0 {
					break
				}
				d.prefix[p]++
			}
			if at > d.prefix[p] {
				d.bad++
				if d.bad <= 5 {
					d.t.Errorf("partition %d committed at %d, but record %d is not done (commit error %v)", p, at, d.prefix[p], err)
				}
			}
		}
	}
}

// TestCommitsFollowOnlyFinishedRecords runs records through the shapes where an entry does
// not simply pass (filtered out, expanded into several, broadcast to every stage of a level,
// fanned out to two branches) and checks at every commit that each record below the
// committed offset is done with: a filtered one at its filter, a kept one once each of its
// outputs reached each sink stage and the other branch's sink had it. Commits come every
// millisecond and the sinks take their time, so that most commits are made while records are
// in flight; the test insists on some.
func TestCommitsFollowOnlyFinishedRecords(t *testing.T) {
	n := scale(20000, 5000)
	c := newCluster(t, 8, "in")
	c.produce("in", n, 100)
	d := newDoneCheck(t, n)
	cfg := c.sourceConfig("g", "in")
	cfg.CommitInterval = time.Millisecond
	var f failures
	cfg.OnCommit = f.watch(d.onCommit)
	kept := func(v in) bool { return v.id%3 != 0 }
	decode := func(r *kgo.Record) (in, error) {
		v, err := decodeIn(r)
		k := 1 // the other branch
		if kept(v) {
			k += 2 * 2 // two outputs, each to both sink stages
		}
		d.expect(v.part, v.off, k)
		return v, err
	}
	got := newSeen()
	g := flow.New()
	src := kafka.Source(g, 2, cfg, decode, flow.Capacity(256)) // completion follows the slow sink closely
	src.Filter(2, func(v in) (in, bool) { return v, kept(v) }).
		Expand(2, func(v in, e *flow.Emitter[in]) {
			e.Emit(v)
			e.Emit(v)
		}).
		Broadcast().
		Sink(2, func(v in) {
			d.arrive(v.part, v.off)
			got.add(v.part, v.off)
		})
	src.Sink(1, func(v in) {
		if v.id%8 == 0 {
			time.Sleep(50 * time.Microsecond)
		}
		d.arrive(v.part, v.off)
	})
	start(t, g)
	nkept := 0
	for i := range n {
		if kept(in{id: uint64(i)}) {
			nkept++
		}
	}
	waitFor(t, "every record", func() bool { return d.doneCount() >= n })
	stop(t, g)
	c.checkCommittedAtEnd("g", "in")
	if p := d.partialCommits(); p < 2 {
		t.Errorf("%d commits made while records were in flight; want several", p)
	}
	if a, k := got.total(); k != nkept || a != 4*nkept && f.none() {
		t.Errorf("%d arrivals of %d records; want %d of %d", a, k, 4*nkept, nkept)
	}
}

// TestPartitionOrderIsKept: records of one partition reach a level keyed by partition, and
// the sink after it, in offset order, across the rebalance of the two consumers (a revoked
// partition's records finish before its next owner reads it).
func TestPartitionOrderIsKept(t *testing.T) {
	n := scale(20000, 2000)
	c := newCluster(t, 8, "in")
	c.produce("in", n, 100)
	var mu sync.Mutex
	last := map[int32]int64{}
	var errs []string
	count := 0
	var f failures
	cfg := c.sourceConfig("g", "in")
	cfg.OnCommit = f.watch(nil)
	g := flow.New()
	kafka.Source(g, 2, cfg, decodeIn).
		PartitionBy(func(v in) int { return int(v.part) }).
		Then(3, func(v in) in { return v }).
		Sink(1, func(v in) {
			mu.Lock()
			defer mu.Unlock()
			if prev, ok := last[v.part]; ok && v.off <= prev && len(errs) < 5 {
				errs = append(errs, fmt.Sprintf("partition %d: offset %d after %d", v.part, v.off, prev))
			}
			last[v.part] = v.off
			count++
		})
	start(t, g)
	waitFor(t, "every record", func() bool { mu.Lock(); defer mu.Unlock(); return count >= n })
	stop(t, g)
	if !f.none() {
		t.Logf("a commit failed, so records may be read again; not checking order: %v", errs)
		return
	}
	for _, e := range errs {
		t.Error(e)
	}
}
