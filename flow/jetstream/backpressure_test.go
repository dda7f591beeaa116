package jetstream_test

import (
	"sync"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// TestFullRingStopsTheFetch holds a sink still with 5k messages available and a consumer
// that would let the client hold all of them: once the fetching stage finds its ring full,
// what the server has delivered stays within what the rings, the hand-over and the
// requests in flight can hold, checked at many points while the sink stays still.
func TestFullRingStopsTheFetch(t *testing.T) {
	const (
		n        = 5_000
		batch    = 32
		capacity = 64
		// fetching ring + decoding ring + the hand-over, the batch the stage took from it
		// and the request the fetch goroutine is handing over.
		bound = capacity + capacity + 3*batch
	)
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}})
	addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work", MaxAckPending: n, AckWait: 2 * patience})
	publishIDs(t, js, 0, n, func(int) string { return "in" })

	gate := make(chan struct{})
	var open sync.Once
	release := func() { open.Do(func() { close(gate) }) }
	g := newGraph()
	cfg := jetstream.SourceConfig{
		JetStream: js, Stream: "in", Consumers: []string{"work"},
		Batch: batch, FetchOptions: []flow.Option{flow.Capacity(capacity)},
	}
	jetstream.Source(g, 1, cfg, decodeRec, flow.Capacity(capacity)).
		Sink(1, func(rec) { <-gate })
	start(t, g)
	t.Cleanup(release) // runs before the Stop: a failing test's sink goes on
	if !eventually(func() bool { return levelStats(g, "jetstream").Blocked > 0 }) {
		t.Fatal("the fetching stage never found its ring full")
	}
	for range 50 {
		ci := consumerInfo(t, js, "in", "work")
		if ci.NumAckPending > bound {
			t.Fatalf("%d messages delivered and unacknowledged behind a full ring (bound %d)", ci.NumAckPending, bound)
		}
		time.Sleep(10 * time.Millisecond) // the window in which an unbounded fetch would grow
	}
	release()
	waitAllAcked(t, js, "in", "work")
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}
