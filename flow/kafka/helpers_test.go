package kafka_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// waitLimit bounds every wait for the cluster or a graph. It detects a hang; it is not a
// performance bound, so it is generous for a loaded 2-core machine under -race.
const waitLimit = 90 * time.Second

// scale returns full under the default run and small under -short.
func scale(full, small int) int {
	if testing.Short() {
		return small
	}
	return full
}

// soak reports whether the long runs were asked for (LOOPYRING_KAFKA_SOAK=1).
func soak() bool { return os.Getenv("LOOPYRING_KAFKA_SOAK") != "" }

// cluster is an in-process fake Kafka cluster of three brokers, with an admin client and a
// plain client for the tests' own producing and reading.
type cluster struct {
	t     *testing.T
	fake  *kfake.Cluster
	addrs []string
	adm   *kadm.Client
	cl    *kgo.Client
}

// newCluster starts a cluster with the given topics, each of partitions partitions, and
// closes it when the test ends.
func newCluster(t *testing.T, partitions int32, topics ...string) *cluster {
	t.Helper()
	fake, err := kfake.NewCluster(
		kfake.NumBrokers(3),
		kfake.SeedTopics(partitions, topics...),
		kfake.GroupMinSessionTimeout(500*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	c := &cluster{t: t, fake: fake, addrs: fake.ListenAddrs()}
	c.cl, err = kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.ProducerLinger(0))
	if err != nil {
		fake.Close()
		t.Fatalf("client: %v", err)
	}
	c.adm = kadm.NewClient(c.cl)
	t.Cleanup(func() {
		c.cl.Close()
		fake.Close()
	})
	return c
}

// produce writes n records into topic: record i has key "k<i%keys>" and value id(i), so
// that every record is told apart by its value and records of one key share a partition.
func (c *cluster) produce(topic string, n, keys int) {
	c.t.Helper()
	if err := c.tryProduce(topic, 0, n, keys); err != nil {
		c.t.Fatal(err)
	}
}

// tryProduce writes the records from up to to as produce does, for a goroutine other than
// the test's.
func (c *cluster) tryProduce(topic string, from, to, keys int) error {
	const chunk = 4096
	for lo := from; lo < to; lo += chunk {
		recs := make([]*kgo.Record, 0, chunk)
		for i := lo; i < min(to, lo+chunk); i++ {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i%keys)), Value: idValue(uint64(i))})
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		err := c.cl.ProduceSync(ctx, recs...).FirstErr()
		cancel()
		if err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	return nil
}

func idValue(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// ends returns topic's end offsets by partition.
func (c *cluster) ends(topic string) map[int32]int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	l, err := c.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = l.Error()
	}
	if err != nil {
		c.t.Fatalf("end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	l.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// committed returns group's committed offsets in topic by partition (absent: none).
func (c *cluster) committed(group, topic string) map[int32]int64 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	os, err := c.adm.FetchOffsets(ctx, group)
	if err == nil {
		err = os.Error()
	}
	if err != nil {
		c.t.Fatalf("committed offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	os.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out
}

// waitBalanced waits until group is stable with members members, each assigned some
// partitions, and every partition of topic assigned.
func (c *cluster) waitBalanced(group, topic string, members int) {
	c.t.Helper()
	partitions := len(c.ends(topic))
	waitFor(c.t, fmt.Sprintf("%d members of %s to share %s", members, group, topic), func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		ds, err := c.adm.DescribeGroups(ctx, group)
		if err != nil {
			c.t.Fatalf("describe %s: %v", group, err)
		}
		d := ds[group]
		if d.State != "Stable" || len(d.Members) != members {
			return false
		}
		for _, m := range d.Members {
			if a, ok := m.Assigned.AsConsumer(); !ok || len(a.Topics) == 0 {
				return false
			}
		}
		return len(d.AssignedPartitions()[topic]) == partitions
	})
}

// checkCommittedAtEnd fails the test unless group has committed the end of every partition
// of topic.
func (c *cluster) checkCommittedAtEnd(group, topic string) {
	c.t.Helper()
	ends, got := c.ends(topic), c.committed(group, topic)
	for p, end := range ends {
		if end > 0 && got[p] != end {
			c.t.Errorf("partition %d: committed %d, end %d", p, got[p], end)
		}
	}
}

// readAll reads every record of topic up to its end offsets, with a direct consumer.
func (c *cluster) readAll(topic string) []*kgo.Record {
	c.t.Helper()
	ends := c.ends(topic)
	want := int64(0)
	for _, e := range ends {
		want += e
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		c.t.Fatalf("reader: %v", err)
	}
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var out []*kgo.Record
	for int64(len(out)) < want {
		fs := rd.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			c.t.Fatalf("read %s: %d of %d records: %v", topic, len(out), want, err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// in is what the tests decode a record into: its position and its id.
type in struct {
	part int32
	off  int64
	id   uint64
}

func decodeIn(r *kgo.Record) (in, error) {
	if len(r.Value) != 8 {
		return in{}, fmt.Errorf("record %d/%d: value of %d bytes", r.Partition, r.Offset, len(r.Value))
	}
	return in{r.Partition, r.Offset, binary.BigEndian.Uint64(r.Value)}, nil
}

// sourceConfig is a test's consumer configuration: quick commits, a short heartbeat and
// session, so that rebalances happen within a test's time.
func (c *cluster) sourceConfig(group string, topics ...string) kafka.SourceConfig {
	return kafka.SourceConfig{
		Brokers:          c.addrs,
		Topics:           topics,
		Group:            group,
		CommitInterval:   20 * time.Millisecond,
		MaxPollRecords:   256,
		RebalanceTimeout: 30 * time.Second,
		DialTimeout:      waitLimit,
		Options:          groupTestOptions(),
	}
}

// groupTestOptions are the client options of the tests' group members: read from the start,
// and heartbeat and fetch often, so that rebalances and records move within a test's time.
func groupTestOptions() []kgo.Opt {
	return []kgo.Opt{
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.HeartbeatInterval(250 * time.Millisecond),
		kgo.SessionTimeout(6 * time.Second),
		kgo.FetchMaxWait(50 * time.Millisecond),
	}
}

// failures counts what a source reports through OnCommit as failed: commits, and revokes
// whose records did not finish in time. Only after one may a record be read twice without a
// crash or a failure under StopGraph; the tests that count duplicates ask it.
type failures struct{ n atomic.Int64 }

// watch returns an OnCommit that counts failures, then calls next (if any).
func (f *failures) watch(next func(map[string]map[int32]int64, error)) func(map[string]map[int32]int64, error) {
	return func(offsets map[string]map[int32]int64, err error) {
		if err != nil {
			f.n.Add(1)
		}
		if next != nil {
			next(offsets, err)
		}
	}
}

func (f *failures) none() bool { return f.n.Load() == 0 }

// seen is a thread-safe count of how often each record (by partition and offset) reached a
// point of a graph.
type seen struct {
	mu sync.Mutex
	n  map[int32]map[int64]int
}

func newSeen() *seen { return &seen{n: map[int32]map[int64]int{}} }

func (s *seen) add(part int32, off int64) {
	s.mu.Lock()
	if s.n[part] == nil {
		s.n[part] = map[int64]int{}
	}
	s.n[part][off]++
	s.mu.Unlock()
}

func (s *seen) count(part int32, off int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[part][off]
}

// total returns how many arrivals were counted, and how many distinct records.
func (s *seen) total() (arrivals, distinct int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.n {
		for _, k := range m {
			arrivals += k
			distinct++
		}
	}
	return arrivals, distinct
}

// waitFor polls cond every 5ms until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start starts g and stops it when the test ends, if the test did not.
func start(t *testing.T, g *flow.Graph) {
	t.Helper()
	if err := g.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = g.Stop() })
}

// stop stops g within waitLimit and fails the test on its error.
func stop(t *testing.T, g *flow.Graph) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Stop: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Stop did not return")
	}
}
