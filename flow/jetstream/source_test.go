package jetstream_test

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// TestSourceDeliversAndAcksEverything runs records through source → KeyBy → Then → sink
// with two fetching stages sharing one durable consumer: every record reaches the sink, and
// once the graph has stopped the consumer has nothing pending and nothing unacknowledged.
func TestSourceDeliversAndAcksEverything(t *testing.T) {
	const n = 10_000
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in.>"}})
	addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work"})
	publishIDs(t, js, 0, n, func(int) string { return "in.x" })

	g := newGraph()
	counts := make([]atomic.Int32, n)
	var got atomic.Int64
	jetstream.Source(g, 2, jetstream.SourceConfig{JetStream: js, Stream: "in", Consumers: []string{"work"}}, decodeRec).
		KeyBy(func(r rec) uint64 { return uint64(r.id) }).
		Then(2, func(r rec) int { return r.id }, flow.Name("work")).
		Sink(1, func(id int) {
			counts[id].Add(1)
			got.Add(1)
		}, flow.Name("sink"))
	start(t, g)
	if !eventually(func() bool { return got.Load() >= n }) {
		t.Fatalf("the sink got %d of %d records", got.Load(), n)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	ci := waitAllAcked(t, js, "in", "work")
	redelivered := int64(ci.Delivered.Consumer) - n
	dups := got.Load() - n
	for id := range counts {
		if counts[id].Load() == 0 {
			t.Fatalf("record %d never reached the sink", id)
		}
	}
	if dups > redelivered {
		t.Fatalf("%d duplicates from %d redeliveries", dups, redelivered)
	}
}

// TestAcksFollowTheSinks checks what is acknowledged while a graph runs: every record at or
// below the consumer's ack floor is finished, whether a filter dropped it or it was expanded
// in two and broadcast to two sink stages (then all four copies have been through a sink).
// The sinks take one token per entry, released a little at a time, so the floor is read at
// many points of the run; at the end everything is acknowledged while the graph still runs.
func TestAcksFollowTheSinks(t *testing.T) {
	const n = 2_000
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}})
	addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work", AckWait: 2 * patience})
	publishIDs(t, js, 0, n, func(int) string { return "in" })

	dropped := func(id int) bool { return id%3 == 0 }
	copies := make([]atomic.Int32, n)
	gate := make(chan struct{}, 64)
	g := newGraph()
	jetstream.Source(g, 1, jetstream.SourceConfig{JetStream: js, Stream: "in", Consumers: []string{"work"}, AckInterval: time.Millisecond}, decodeRec).
		Filter(1, func(r rec) (int, bool) { return r.id, !dropped(r.id) }).
		Expand(1, func(id int, e *flow.Emitter[int]) { e.Emit(id); e.Emit(id) }).
		Broadcast().
		Sink(2, func(id int) {
			<-gate
			copies[id].Add(1)
		})
	start(t, g)
	var open sync.Once
	t.Cleanup(func() { open.Do(func() { close(gate) }) }) // before the Stop: a failing test's sinks go on
	finished := func(id int) bool { return dropped(id) || copies[id].Load() == 4 }
	checkFloor := func() uint64 {
		t.Helper()
		floor := consumerInfo(t, js, "in", "work").AckFloor.Stream // record id = stream sequence - 1
		for id := range int(floor) {
			if !finished(id) {
				t.Fatalf("record %d is acknowledged (floor %d) with %d of its 4 copies through the sinks", id, floor, copies[id].Load())
			}
		}
		return floor
	}
	tokens := 4 * (n - (n+2)/3)
	for released := 0; released < tokens; {
		for range min(97, tokens-released) {
			gate <- struct{}{}
			released++
		}
		checkFloor()
	}
	waitAllAcked(t, js, "in", "work")
	if floor := checkFloor(); floor != n {
		t.Fatalf("ack floor %d once everything is acknowledged, want %d", floor, n)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// order is what the partition test decodes: the record, its key and its partition, from the
// subject orders.<partition>.<key> that the stream's subject transform made.
type order struct {
	id, key, part int
}

// TestPartitionsKeepKeyOrder partitions a stream in two with a subject transform, reads each
// partition through its own filtered durable consumer on its own fetching stage, and checks
// at the sink, behind KeyBy and a level of two stages, that every key came through one
// partition and in the order it was published; each consumer delivered its partition only.
func TestPartitionsKeepKeyOrder(t *testing.T) {
	const n, keys = 4_000, 50
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{
		Name:     "orders",
		Subjects: []string{"orders.*"},
		SubjectTransform: &natsjs.SubjectTransformConfig{
			Source:      "orders.*",
			Destination: "orders.{{partition(2,1)}}.{{wildcard(1)}}",
		},
	})
	for p := range 2 {
		addConsumer(t, js, "orders", natsjs.ConsumerConfig{Durable: fmt.Sprintf("p%d", p), FilterSubject: fmt.Sprintf("orders.%d.*", p), AckWait: 2 * patience})
	}
	publishIDs(t, js, 0, n, func(id int) string { return fmt.Sprintf("orders.%d", id%keys) })

	decode := func(m natsjs.Msg) (order, error) {
		id, err := decodeID(m.Data())
		if err != nil {
			return order{}, err
		}
		tokens := strings.Split(m.Subject(), ".")
		if len(tokens) != 3 {
			return order{}, fmt.Errorf("subject %q is not orders.<partition>.<key>", m.Subject())
		}
		part, err := strconv.Atoi(tokens[1])
		if err != nil {
			return order{}, err
		}
		return order{id: id, key: subjectID(m.Subject()), part: part}, nil
	}
	g := newGraph()
	last := make([]int, keys)   // the sink's: the last id of each key, -1 for none
	partOf := make([]int, keys) // the sink's: the partition of each key, -1 for none
	perPart := make([]int, 2)   // the sink's: records of each partition
	var got atomic.Int64
	for k := range keys {
		last[k], partOf[k] = -1, -1
	}
	var disorder atomic.Value
	jetstream.Source(g, 2, jetstream.SourceConfig{JetStream: js, Stream: "orders", Consumers: []string{"p0", "p1"}}, decode).
		KeyBy(func(o order) uint64 { return uint64(o.key) }).
		Then(2, func(o order) order { return o }).
		Sink(1, func(o order) {
			if o.id <= last[o.key] || (partOf[o.key] >= 0 && partOf[o.key] != o.part) {
				disorder.CompareAndSwap(nil, fmt.Sprintf("key %d: id %d (partition %d) after id %d (partition %d)", o.key, o.id, o.part, last[o.key], partOf[o.key]))
			}
			last[o.key], partOf[o.key] = o.id, o.part
			perPart[o.part]++
			got.Add(1)
		})
	start(t, g)
	if !eventually(func() bool { return got.Load() >= n }) {
		t.Fatalf("the sink got %d of %d records", got.Load(), n)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if d := disorder.Load(); d != nil {
		t.Fatal(d)
	}
	for p := range 2 {
		ci := waitAllAcked(t, js, "orders", fmt.Sprintf("p%d", p))
		if perPart[p] == 0 || ci.Delivered.Consumer != uint64(perPart[p]) {
			t.Errorf("partition %d: %d records at the sink, %d delivered by its consumer", p, perPart[p], ci.Delivered.Consumer)
		}
	}
}
