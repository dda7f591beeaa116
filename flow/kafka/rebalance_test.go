package kafka_test

// Rebalances: graphs joining and leaving a group mid-stream lose nothing, and read again
// only what was in flight past the last commit of a partition that moved.

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// member is one graph of the group, with what it decoded, handled and committed.
type member struct {
	g       *flow.Graph
	seen    *seen
	decoded atomic.Int64
	handled atomic.Int64

	mu       sync.Mutex
	okCommit map[int32]int64 // the highest offset a commit of this graph's acknowledged
	failed   int             // commits that failed, or drains that timed out
}

// memberOptions shape a member: its consumer's configuration, the decoding level's ring, and
// a hook every record passes before it is handled.
type memberOptions struct {
	cfg    func(*kafka.SourceConfig)
	decCap int
	before func(in)
}

// newMember builds, but does not start, source → KeyBy → Then → sink back to the broker.
func newMember(c *cluster, o memberOptions) *member {
	m := &member{seen: newSeen(), okCommit: map[int32]int64{}}
	cfg := c.sourceConfig("g", "in")
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	cfg.OnCommit = func(offsets map[string]map[int32]int64, err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if err != nil {
			m.failed++
			return
		}
		for p, at := range offsets["in"] {
			m.okCommit[p] = max(m.okCommit[p], at)
		}
	}
	decode := func(r *kgo.Record) (in, error) {
		m.decoded.Add(1)
		return decodeIn(r)
	}
	m.g = flow.New()
	out := kafka.Source(m.g, 1, cfg, decode, flow.Capacity(max(o.decCap, 1024))).
		KeyBy(func(v in) uint64 { return v.id }).
		Then(2, func(v in) in {
			if o.before != nil {
				o.before(v)
			}
			m.seen.add(v.part, v.off)
			m.handled.Add(1)
			return v
		}, flow.Capacity(1024))
	kafka.Sink(out, 1, c.sinkConfig("out"), func(v in) (*kgo.Record, error) { return encodeID(v.id) })
	return m
}

func (m *member) failures() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.failed
}

// checkHandover fails the test unless every record of in reached the output topic and was
// handled by A or B, each at most once, and every record both handled lies, in its
// partition, between A's last acknowledged commit and the last record A handled there: what
// was in flight when the partition moved. It returns how many records both handled, and
// how many A had handled past its commits.
func checkHandover(t *testing.T, c *cluster, a, b *member, n int) (twice, inFlight int) {
	t.Helper()
	outs := map[uint64]int{}
	for _, r := range c.readAll("out") {
		outs[binary.BigEndian.Uint64(r.Value)]++
	}
	lost := 0
	for id := range uint64(n) {
		if outs[id] == 0 {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d records never reached the output", lost, n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for p, end := range c.ends("in") {
		lastA := int64(-1)
		for off := range end {
			if a.seen.count(p, off) > 0 {
				lastA = off
			}
		}
		from := a.okCommit[p]
		if lastA >= from {
			inFlight += int(lastA + 1 - from)
		}
		for off := range end {
			ka, kb := a.seen.count(p, off), b.seen.count(p, off)
			switch {
			case ka > 1 || kb > 1:
				t.Fatalf("partition %d offset %d handled %d times by A, %d by B", p, off, ka, kb)
			case ka+kb == 0:
				t.Fatalf("partition %d offset %d never handled", p, off)
			case ka == 1 && kb == 1:
				twice++
				if off < from || off > lastA {
					t.Fatalf("partition %d offset %d handled by both graphs, outside A's last commit %d and last record %d", p, off, from, lastA)
				}
			}
		}
	}
	return twice, inFlight
}

// waitCommittedAtEnd waits until the group has committed the end of every partition of in.
func waitCommittedAtEnd(t *testing.T, c *cluster) {
	t.Helper()
	ends := c.ends("in")
	waitFor(t, "the group to commit the end", func() bool {
		got := c.committed("g", "in")
		for p, end := range ends {
			if got[p] != end {
				return false
			}
		}
		return true
	})
}

// TestRebalanceJoinAndLeaveLosesNothing runs half a stream through a graph A, starts a graph
// B in the same group once A has handled a fifth of the whole, and once the two share the
// partitions has a producer write the second half (which has records in every partition,
// so B gets some), and stops A once B is handling records too. Every record reaches the output topic; the
// group commits the end of every partition; and a record handled by both graphs lies, in
// its partition, between A's last acknowledged commit and the last record A handled there:
// what was in flight when the partition moved. The records handled twice are counted.
func TestRebalanceJoinAndLeaveLosesNothing(t *testing.T) {
	n := scale(100000, 20000)
	if soak() {
		n = 1000000
	}
	c := newCluster(t, 8, "in", "out")
	c.produce("in", n/2, 1000)
	a, b := newMember(c, memberOptions{}), newMember(c, memberOptions{})
	start(t, a.g)
	waitFor(t, "A to handle a fifth", func() bool { return a.handled.Load() >= int64(n/5) })
	backlog := a.decoded.Load() - a.handled.Load()
	start(t, b.g)
	c.waitBalanced("g", "in", 2)
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		if err := c.tryProduce("in", n/2, n, 1000); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { <-produced })
	waitFor(t, "B to handle records", func() bool { return b.handled.Load() > 0 })
	stop(t, a.g)
	<-produced
	waitCommittedAtEnd(t, c)
	stop(t, b.g)
	twice, inFlight := checkHandover(t, c, a, b, n)
	t.Logf("%d records, %d handled by A, %d by B; A had %d decoded and not yet handled when B joined; %d handled twice, of %d A handled past its commits; %d of A's commits failed",
		n, a.handled.Load(), b.handled.Load(), backlog, twice, inFlight, a.failures())
	if twice > inFlight {
		t.Errorf("%d records handled twice; at most %d were in flight", twice, inFlight)
	}
}

// TestRevokeThatCannotDrainCommitsWhatFinished holds A's work from its first record on, so
// that everything A emitted is in flight when B joins: A's revoke waits for half the
// rebalance timeout, reports that its records did not finish, commits nothing, and lets the
// partitions go; B reads them from the start. Once A is let go it handles what it emitted,
// so the records handled twice are exactly the moved partitions', all of them in flight.
func TestRevokeThatCannotDrainCommitsWhatFinished(t *testing.T) {
	n := scale(4000, 2000)
	c := newCluster(t, 8, "in", "out")
	c.produce("in", n, 1000)
	release := make(chan struct{})
	short := func(cfg *kafka.SourceConfig) { cfg.RebalanceTimeout = 6 * time.Second }
	a := newMember(c, memberOptions{cfg: short, decCap: 8192, before: func(in) { <-release }})
	b := newMember(c, memberOptions{cfg: short})
	start(t, a.g)
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // registered after start's Stop, so it runs before
	waitFor(t, "A to decode everything", func() bool { return a.decoded.Load() == int64(n) })
	start(t, b.g)
	waitFor(t, "B to handle records", func() bool { return b.handled.Load() > 0 })
	if a.failures() == 0 {
		t.Error("A gave partitions up without reporting its unfinished records")
	}
	open()
	stop(t, a.g)
	waitCommittedAtEnd(t, c)
	stop(t, b.g)
	twice, inFlight := checkHandover(t, c, a, b, n)
	t.Logf("%d records, %d handled by A, %d by B; %d handled twice, of %d in flight", n, a.handled.Load(), b.handled.Load(), twice, inFlight)
	if twice != int(b.handled.Load()) || twice == 0 {
		t.Errorf("%d records handled twice; want every one of the %d B handled", twice, b.handled.Load())
	}
}
