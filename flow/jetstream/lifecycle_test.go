package jetstream_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// TestStopAcknowledgesTheDrain stops a graph (by Stop, and by the cancellation of Start's
// context) while its sink holds back hundreds of emitted records, then lets the sink go:
// the stop returns only once the drain has finished every emitted record and the server has
// their acknowledgements, and acknowledges nothing else. One fetching stage, and an AckWait
// that never runs out, make the acknowledged messages exactly the stream's first ones.
func TestStopAcknowledgesTheDrain(t *testing.T) {
	const n = 5_000
	for _, tc := range []struct {
		name string
		stop func(g *flow.Graph, cancel context.CancelFunc) error
		want error
	}{
		{"stop", func(g *flow.Graph, _ context.CancelFunc) error { return g.Stop() }, nil},
		{"cancel", func(g *flow.Graph, cancel context.CancelFunc) error { cancel(); return g.Wait() }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := runServer(t)
			_, js := connect(t, s.ClientURL())
			addStream(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}})
			addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work", AckWait: 2 * patience})
			publishIDs(t, js, 0, n, func(int) string { return "in" })

			gate := make(chan struct{})
			var open sync.Once
			release := func() { open.Do(func() { close(gate) }) }
			var seen atomic.Int64
			g := newGraph()
			jetstream.Source(g, 1, jetstream.SourceConfig{JetStream: js, Stream: "in", Consumers: []string{"work"}}, decodeRec).
				Then(2, func(r rec) int { return r.id }).
				Sink(1, func(int) {
					<-gate
					seen.Add(1)
				})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := g.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			t.Cleanup(func() { _ = g.Stop() })
			t.Cleanup(release) // runs first: a failing test's sink goes on
			if !eventually(func() bool { return levelStats(g, "jetstream").Out >= 500 }) {
				t.Fatal("the source emitted too little")
			}
			stopped := make(chan error, 1)
			go func() { stopped <- tc.stop(g, cancel) }()
			release()
			if err := <-stopped; !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("stopping: %v, want %v", err, tc.want)
			}
			emitted := levelStats(g, "jetstream").Out
			if uint64(seen.Load()) != emitted {
				t.Fatalf("the sink saw %d of the %d records emitted", seen.Load(), emitted)
			}
			var floor uint64
			if !eventually(func() bool {
				floor = consumerInfo(t, js, "in", "work").AckFloor.Stream
				return floor >= emitted
			}) {
				t.Fatalf("ack floor %d after the graph stopped, %d emitted", floor, emitted)
			}
			if floor != emitted {
				t.Fatalf("ack floor %d, beyond the %d emitted", floor, emitted)
			}
		})
	}
}
