package jetstream_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// tally counts, per record id, how often a sink saw it, and how many records it saw that the
// server had delivered before. With a gate, the sink holds the record after the first holdAt
// until the gate closes.
type tally struct {
	counts      []atomic.Int32
	total       atomic.Int64
	redelivered atomic.Int64
	gate        chan struct{}
	holdAt      int64
}

func newTally(n int) *tally { return &tally{counts: make([]atomic.Int32, n)} }

func (c *tally) see(r rec) {
	if c.gate != nil && c.total.Load() >= c.holdAt {
		<-c.gate
	}
	c.counts[r.id].Add(1)
	c.total.Add(1)
	if r.delivered > 1 {
		c.redelivered.Add(1)
	}
}

// seenByBoth counts the records both tallies saw: what the second graph got again of what the
// first had seen. Only what the first held unacknowledged can reach the second, so the
// count is bounded by the consumer's MaxAckPending.
func seenByBoth(a, b *tally) int {
	both := 0
	for id := range a.counts {
		if a.counts[id].Load() > 0 && b.counts[id].Load() > 0 {
			both++
		}
	}
	return both
}

// countingGraph builds source → KeyBy → Then → sink into c, on the consumer "work" of the
// stream "in", with the source's level named name.
func countingGraph(js natsjs.JetStream, name string, c *tally, opts ...flow.Option) *flow.Graph {
	g := newGraph()
	jetstream.Source(g, 1, jetstream.SourceConfig{JetStream: js, Stream: "in", Consumers: []string{"work"}, Name: name}, decodeRec, opts...).
		KeyBy(func(r rec) uint64 { return uint64(r.id) }).
		Then(2, func(r rec) rec { return r }).
		Sink(1, c.see)
	return g
}

// TestCrashRedeliversWithoutLoss crashes a graph mid-stream (its connection closes while its
// sink holds a record: nothing more is acknowledged) and runs a second one on the same
// durable consumer: the messages the first held unacknowledged come back after AckWait,
// every record is seen by one graph or the other, and the duplicates are records the server
// redelivered, no more than the consumer lets be unacknowledged at once.
func TestCrashRedeliversWithoutLoss(t *testing.T) {
	const n, maxAckPending = 10_000, 256
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}})
	addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work", AckWait: 3 * time.Second, MaxAckPending: maxAckPending})
	publishIDs(t, js, 0, n, func(int) string { return "in" })

	ncA, jsA := connect(t, s.ClientURL())
	a := newTally(n)
	// The first graph's sink holds its record after the first third, so that the crash finds
	// messages delivered to it and not finished, whatever the timing.
	a.gate, a.holdAt = make(chan struct{}), n/3
	var open sync.Once
	release := func() { open.Do(func() { close(a.gate) }) }
	ga := countingGraph(jsA, "a", a)
	start(t, ga)
	t.Cleanup(release) // runs before the Stop: a failing test's sink goes on
	if !eventually(func() bool { return a.total.Load() >= n/3 }) {
		t.Fatalf("the first graph saw %d records", a.total.Load())
	}
	ncA.Close() // the crash: no acknowledgement leaves the first graph from now on
	release()
	// The fetch ends (natsjs's error) or an acknowledgement fails (nats's), whichever first.
	if err := waitGraph(t, ga); !errors.Is(err, natsjs.ErrConnectionClosed) && !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("the crashed graph's error is %v, want a closed connection", err)
	}

	b := newTally(n)
	gb := countingGraph(js, "b", b)
	start(t, gb)
	ci := waitAllAcked(t, js, "in", "work")
	if err := gb.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for id := range n {
		if a.counts[id].Load()+b.counts[id].Load() == 0 {
			t.Fatalf("record %d lost", id)
		}
	}
	if b.redelivered.Load() == 0 {
		t.Fatal("the second graph saw no redelivered record")
	}
	dups := a.total.Load() + b.total.Load() - n
	redeliveries := int64(ci.Delivered.Consumer) - n
	both := seenByBoth(a, b)
	t.Logf("%d records seen twice (%d by both graphs), %d redeliveries, MaxAckPending %d", dups, both, redeliveries, maxAckPending)
	if dups > redeliveries || both > maxAckPending {
		t.Fatalf("%d duplicates (%d by both graphs) from %d redeliveries, with at most %d unacknowledged at a time", dups, both, redeliveries, maxAckPending)
	}
}

// TestPoisonRecordFollowsThePolicy puts one message that decode refuses among good ones.
// Under Skip and ErrorSink it is counted (and handed to the error sink) and acknowledged, and
// everything else goes through; under StopGraph the graph stops with the decoding level's
// error and acknowledges nothing more, so a second graph gets the poison message again.
func TestPoisonRecordFollowsThePolicy(t *testing.T) {
	const n, poison = 500, 100
	for _, tc := range []struct {
		name   string
		policy func(record func(*flow.StageError)) flow.ErrorPolicy
	}{
		{"skip", func(func(*flow.StageError)) flow.ErrorPolicy { return flow.Skip }},
		{"error sink", func(record func(*flow.StageError)) flow.ErrorPolicy { return flow.ErrorSink(record) }},
		{"stop graph", func(func(*flow.StageError)) flow.ErrorPolicy { return flow.StopGraph }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runServer(t)
			_, js := connect(t, s.ClientURL())
			addStream(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}})
			addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work", AckWait: time.Second})
			publishIDs(t, js, 0, poison, func(int) string { return "in" })
			if _, err := js.Publish(context.Background(), "in", []byte("bad")); err != nil {
				t.Fatal(err)
			}
			publishIDs(t, js, poison+1, n, func(int) string { return "in" })

			var mu sync.Mutex
			var reported []*flow.StageError
			record := func(se *flow.StageError) {
				mu.Lock()
				defer mu.Unlock()
				reported = append(reported, se)
			}
			c := newTally(n)
			g := countingGraph(js, "in", c, flow.OnError(tc.policy(record)))
			start(t, g)
			if tc.name == "stop graph" {
				err := waitGraph(t, g)
				var se *flow.StageError
				if !errors.As(err, &se) || se.Level != "in.decode" || !errors.Is(err, errBadLength) {
					t.Fatalf("the graph's error is %v, want the decoding level's %v", err, errBadLength)
				}
				// Nothing is acknowledged after the failure: the poison message comes back.
				again := newTally(n)
				g2 := countingGraph(js, "again", again, flow.OnError(flow.Skip))
				start(t, g2)
				waitAllAcked(t, js, "in", "work")
				if err := g2.Stop(); err != nil {
					t.Fatalf("Stop: %v", err)
				}
				if levelStats(g2, "again.decode").Errors == 0 {
					t.Fatal("the poison message was acknowledged by the graph it stopped")
				}
				for id := range n {
					if id != poison && c.counts[id].Load()+again.counts[id].Load() == 0 {
						t.Fatalf("record %d lost", id)
					}
				}
				return
			}
			waitAllAcked(t, js, "in", "work") // the poison message included
			if err := g.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if errs := levelStats(g, "in.decode").Errors; errs != 1 {
				t.Fatalf("%d decoding errors counted, want 1", errs)
			}
			for id := range n {
				if id != poison && c.counts[id].Load() != 1 {
					t.Fatalf("record %d seen %d times", id, c.counts[id].Load())
				}
			}
			if tc.name == "error sink" {
				mu.Lock()
				defer mu.Unlock()
				if len(reported) != 1 || !errors.Is(reported[0], errBadLength) {
					t.Fatalf("the error sink got %v, want one %v", reported, errBadLength)
				}
			}
		})
	}
}

// unreachable returns the URL of a port nothing listens on.
func unreachable(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "nats://" + addr
}

// TestUnreachableServerFailsClearly: with a connection that has never reached its server
// (it keeps trying), a source fails its stage within its Timeout, naming the consumer, and
// the graph stops with that error; a sink makes Start fail.
func TestUnreachableServerFailsClearly(t *testing.T) {
	_, js := connect(t, unreachable(t), nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond))
	const timeout = 200 * time.Millisecond

	t.Run("source", func(t *testing.T) {
		g := newGraph()
		jetstream.Source(g, 1, jetstream.SourceConfig{JetStream: js, Stream: "in", Consumers: []string{"work"}, Timeout: timeout}, decodeRec).
			Sink(1, func(rec) {})
		start(t, g)
		err := waitGraph(t, g)
		var se *flow.StageError
		if !errors.As(err, &se) || se.Level != "jetstream" || !strings.Contains(err.Error(), `consumer "work" of stream "in"`) {
			t.Fatalf("the graph's error is %v, want the source's, naming the consumer", err)
		}
	})
	t.Run("sink", func(t *testing.T) {
		g := newGraph()
		in := flow.Input[int](g)
		jetstream.Sink(in.Stream, 1, jetstream.SinkConfig{JetStream: js, Timeout: timeout}, encodeOut, flow.Name("publish"))
		err := g.Start(context.Background())
		if err == nil {
			_ = g.Stop()
			t.Fatal("Start succeeded with an unreachable server")
		}
		if !strings.Contains(err.Error(), "does not answer") || !strings.Contains(err.Error(), "publish") {
			t.Fatalf("Start: %v, want the sink's level and that the server does not answer", err)
		}
	})
}
