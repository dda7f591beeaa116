package kafka

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The tracker maps what a source stage emitted back to the Kafka positions it came from, and
// turns the stage's Completed count into offsets that may be committed.
//
// The i-th record a stage emits (from 0) has emission index i, and Completed() = c says
// that every index below c is finished. The tracker keeps, in emission order, runs: stretches
// of consecutive indexes that carry consecutive offsets of one partition under one leader
// epoch. A poll returns each partition's records together, so a run is usually a whole
// fetch of a partition and the queue stays a few entries long. Settling c pops the runs
// below c and raises each partition's finished position to one past its last finished
// record. A queue entry per record was rejected: it costs an append per record where a run
// costs one per fetch, and it holds a position per record in flight.
//
// Every field but owners is guarded by mu: the stage appends (emit), the committer
// goroutine and the client's rebalance callbacks settle and collect.

// tracker is one source stage's record of what it emitted and what may be committed.
type tracker struct {
	mu      sync.Mutex
	parts   map[topicPartition]*partition // the partitions the stage owns
	runs    []run                         // emitted and not yet settled, oldest first
	emitted int64                         // the next emission index
	owners  []*partition                  // emit's, per record of its batch (the stage's only)
}

type topicPartition struct {
	topic string
	part  int32
}

// partition is the tracker's state of one partition for one assignment of it: a partition
// revoked and assigned again gets a new one, so that runs still queued for the old
// assignment update a value nobody commits any more.
type partition struct {
	topicPartition
	last      int64           // one past the emission index of its last emitted record
	done      kgo.EpochOffset // one past its last finished record; Offset -1 before any
	committed int64           // the highest offset a commit acknowledged; -1 before any
}

// run is a stretch of emission indexes [first, first+n) carrying the offsets [off, off+n)
// of partition p, all read under leader epoch epoch.
type run struct {
	p     *partition
	first int64
	off   int64
	n     int64
	epoch int32
}

func newTracker() *tracker {
	return &tracker{parts: map[topicPartition]*partition{}}
}

// assign starts tracking the given partitions. A partition already owned keeps its state.
func (t *tracker) assign(assigned map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range assigned {
		for _, p := range ps {
			tp := topicPartition{topic, p}
			if t.parts[tp] == nil {
				t.parts[tp] = &partition{topicPartition: tp, done: kgo.EpochOffset{Epoch: -1, Offset: -1}, committed: -1}
			}
		}
	}
}

// emit emits the records of partitions the stage owns through publish, in order, and
// queues their positions; records of other partitions are dropped. It stops at the first
// record publish refuses (the graph is stopping) and returns how many it emitted. The stage's
// goroutine only.
//
// The lock is not held while publish runs, which blocks while the ring is full, so that
// commits of what is finished go on meanwhile; the batch's positions are queued once it is
// emitted. A count from Completed that already covers some of them settles them at the next
// commit. No rebalance callback runs during a batch (BlockRebalanceOnPoll); were one to, a
// partition revoked meanwhile would at worst have records read again, since a commit never
// passes what Completed counts.
func (t *tracker) emit(recs []*kgo.Record, publish func(*kgo.Record) error) int {
	t.mu.Lock()
	owners := t.owners[:0]
	var p *partition
	for _, r := range recs {
		if p == nil || p.topic != r.Topic || p.part != r.Partition {
			p = t.parts[topicPartition{r.Topic, r.Partition}]
		}
		owners = append(owners, p)
	}
	t.owners = owners
	t.mu.Unlock()
	n, end := 0, len(recs)
	for i, r := range recs {
		if owners[i] == nil {
			continue
		}
		if publish(r) != nil {
			end = i
			break
		}
		n++
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, r := range recs[:end] {
		if owners[i] != nil {
			t.queue(owners[i], r)
		}
	}
	return n
}

// queue records that the record r of p got the next emission index.
func (t *tracker) queue(p *partition, r *kgo.Record) {
	i := t.emitted
	t.emitted++
	p.last = t.emitted
	if k := len(t.runs) - 1; k >= 0 {
		last := &t.runs[k]
		if last.p == p && last.epoch == r.LeaderEpoch && last.off+last.n == r.Offset && last.first+last.n == i {
			last.n++
			return
		}
	}
	t.runs = append(t.runs, run{p: p, first: i, off: r.Offset, n: 1, epoch: r.LeaderEpoch})
}

// settleLocked records that every emission index below c is finished.
func (t *tracker) settleLocked(c int64) {
	i := 0
	for ; i < len(t.runs) && t.runs[i].first < c; i++ {
		r := &t.runs[i]
		k := min(c-r.first, r.n)
		if end := r.off + k; end > r.p.done.Offset {
			r.p.done = kgo.EpochOffset{Epoch: r.epoch, Offset: end}
		}
		if k < r.n {
			r.first += k
			r.off += k
			r.n -= k
			break
		}
	}
	t.runs = t.runs[i:]
}

// collect settles c and returns, for each of ps (nil: every owned partition), the position
// to commit where it is ahead of what was committed.
func (t *tracker) collect(c int64, ps []*partition) commit {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.settleLocked(c)
	if ps == nil {
		for _, p := range t.parts {
			ps = append(ps, p)
		}
	}
	var cm commit
	for _, p := range ps {
		if p.done.Offset > p.committed {
			cm.parts = append(cm.parts, p)
			cm.at = append(cm.at, p.done)
		}
	}
	return cm
}

// acked records that the broker accepted at[i] for parts[i].
func (t *tracker) acked(cm commit, ok func(topic string, part int32) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, p := range cm.parts {
		if ok(p.topic, p.part) && cm.at[i].Offset > p.committed {
			p.committed = cm.at[i].Offset
		}
	}
}

// revoke stops tracking the given partitions and returns those it tracked, with the
// emission index every record emitted from them lies below.
func (t *tracker) revoke(revoked map[string][]int32) (ps []*partition, target int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, parts := range revoked {
		for _, part := range parts {
			tp := topicPartition{topic, part}
			if p := t.parts[tp]; p != nil {
				delete(t.parts, tp)
				ps = append(ps, p)
				target = max(target, p.last)
			}
		}
	}
	return ps, target
}

// lost stops tracking the given partitions without committing them: their records still in
// the graph finish, and their next owner reads them again from the last commit.
func (t *tracker) lost(lost map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, parts := range lost {
		for _, part := range parts {
			delete(t.parts, topicPartition{topic, part})
		}
	}
}

// emittedCount returns the next emission index: how many records the stage emitted.
func (t *tracker) emittedCount() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.emitted
}

// commit is a set of positions to commit, one per partition.
type commit struct {
	parts []*partition
	at    []kgo.EpochOffset
}

// offsets returns the commit in the form kgo takes.
func (cm commit) offsets() map[string]map[int32]kgo.EpochOffset {
	m := map[string]map[int32]kgo.EpochOffset{}
	for i, p := range cm.parts {
		if m[p.topic] == nil {
			m[p.topic] = map[int32]kgo.EpochOffset{}
		}
		m[p.topic][p.part] = cm.at[i]
	}
	return m
}

// plain returns the commit's offsets without their epochs, as OnCommit reports them.
func (cm commit) plain() map[string]map[int32]int64 {
	m := map[string]map[int32]int64{}
	for i, p := range cm.parts {
		if m[p.topic] == nil {
			m[p.topic] = map[int32]int64{}
		}
		m[p.topic][p.part] = cm.at[i].Offset
	}
	return m
}
