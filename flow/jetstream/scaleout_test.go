package jetstream_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// republish is the scale-out tests' graph: source → KeyBy → Then (counting into c) → a sink
// that publishes each record back to the server, to out.<id>, on the durable consumer "work"
// of the stream "in". The records carry no message id, so every duplicate is stored and
// counted.
func republish(js natsjs.JetStream, name string, c *tally) *flow.Graph {
	g := newGraph()
	work := jetstream.Source(g, 1, jetstream.SourceConfig{JetStream: js, Stream: "in", Consumers: []string{"work"}, Name: name}, decodeRec).
		KeyBy(func(r rec) uint64 { return uint64(r.id) }).
		Then(2, func(r rec) int {
			c.see(r)
			return r.id
		}, flow.Name(name+".work"))
	jetstream.Sink(work, 1, jetstream.SinkConfig{JetStream: js}, func(id int) (*nats.Msg, error) {
		return &nats.Msg{Subject: "out." + strconv.Itoa(id), Data: encodeID(id)}, nil
	}, flow.Name(name+".publish"))
	return g
}

// scaleOutRecords is how many records the scale-out tests run through: 100k, and 20k under
// -race, so that the package's tests stay within their time. LOOPYRING_JETSTREAM_RECORDS
// sets another number, for a soak.
func scaleOutRecords(t *testing.T) int {
	if v := os.Getenv("LOOPYRING_JETSTREAM_RECORDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			t.Fatalf("LOOPYRING_JETSTREAM_RECORDS=%q: want a number of records, at least 10", v)
		}
		return n
	}
	if raceEnabled {
		return 20_000
	}
	return 100_000
}

// TestGraphsJoinAndLeaveOneConsumer runs records from the server through a graph and back to
// the server. A second graph, on a connection of its own, joins the same durable consumer
// mid-stream; then the first leaves (Stop) mid-stream, and the second finishes. Every record
// is stored back at least once, the consumer has acknowledged all of them, the records
// stored twice are no more than the messages the server redelivered, and those both graphs
// saw no more than the consumer lets be unacknowledged at a time.
func TestGraphsJoinAndLeaveOneConsumer(t *testing.T) {
	n := scaleOutRecords(t)
	const maxAckPending = 1024
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}})
	addStream(t, js, natsjs.StreamConfig{Name: "out", Subjects: []string{"out.>"}})
	addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work", MaxAckPending: maxAckPending, AckWait: 5 * time.Second})
	publishIDs(t, js, 0, n, func(int) string { return "in" })

	_, jsA := connect(t, s.ClientURL())
	_, jsB := connect(t, s.ClientURL())
	a, b := newTally(n), newTally(n)
	ga, gb := republish(jsA, "a", a), republish(jsB, "b", b)
	start(t, ga)
	waitStored(t, js, "out", n/4)
	start(t, gb)
	if !eventually(func() bool { return b.total.Load() > 0 && streamMsgs(t, js, "out") >= uint64(n/2) }) {
		t.Fatalf("%d records stored back, %d by the second graph, before the first leaves", streamMsgs(t, js, "out"), b.total.Load())
	}
	if err := ga.Stop(); err != nil {
		t.Fatalf("the first graph's Stop: %v", err)
	}
	ci := waitAllAcked(t, js, "in", "work")
	waitStored(t, js, "out", n)
	if err := gb.Stop(); err != nil {
		t.Fatalf("the second graph's Stop: %v", err)
	}
	if ci.AckFloor.Stream != uint64(n) {
		t.Fatalf("ack floor %d of %d", ci.AckFloor.Stream, n)
	}
	stored := readIDs(t, js, "out")
	for id := range n {
		if stored[id] == 0 {
			t.Fatalf("record %d lost", id)
		}
	}
	dups := int64(streamMsgs(t, js, "out")) - int64(n)
	redeliveries := int64(ci.Delivered.Consumer) - int64(n)
	both := seenByBoth(a, b)
	t.Logf("first graph %d, second %d (%d redelivered); %d stored twice, %d seen by both graphs, %d redeliveries, MaxAckPending %d",
		a.total.Load(), b.total.Load(), b.redelivered.Load(), dups, both, redeliveries, maxAckPending)
	if a.total.Load() == 0 || b.total.Load() == 0 {
		t.Fatal("a graph processed nothing")
	}
	if dups > redeliveries || both > maxAckPending {
		t.Fatalf("%d records stored twice (%d seen by both graphs) from %d redeliveries, with at most %d unacknowledged at a time", dups, both, redeliveries, maxAckPending)
	}
}
