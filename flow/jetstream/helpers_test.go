package jetstream_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
)

// patience bounds every wait for the broker or a graph to get somewhere. It detects a hang;
// it is not a performance bound, so it is generous for a loaded 2-core machine under -race.
const patience = 2 * time.Minute

// runServer starts an embedded server with JetStream on, storing in a temporary folder, and
// shuts it down when the test ends.
func runServer(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		ServerName: "solo",
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(patience) {
		t.Fatal("the server is not ready for connections")
	}
	return s
}

// connect opens a connection to url and its JetStream context, closed when the test ends.
func connect(t testing.TB, url string, opts ...nats.Option) (*nats.Conn, natsjs.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

// addStream creates a stream, with the replicas and subject transform of cfg, if set.
func addStream(t testing.TB, js natsjs.JetStream, cfg natsjs.StreamConfig) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatalf("create stream %q: %v", cfg.Name, err)
	}
}

// addConsumer creates a durable pull consumer that acknowledges explicitly; cfg sets the rest.
func addConsumer(t testing.TB, js natsjs.JetStream, stream string, cfg natsjs.ConsumerConfig) {
	t.Helper()
	cfg.AckPolicy = natsjs.AckExplicitPolicy
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := js.CreateOrUpdateConsumer(ctx, stream, cfg); err != nil {
		t.Fatalf("create consumer %q: %v", cfg.Durable, err)
	}
}

// publishIDs publishes the ids [from, to) to subject(id), each as its 8-byte big-endian
// encoding, asynchronously, and waits until the server has acknowledged all of them.
func publishIDs(t testing.TB, js natsjs.JetStream, from, to int, subject func(id int) string) {
	t.Helper()
	futures := make([]natsjs.PubAckFuture, 0, 1024)
	settle := func() {
		for _, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				t.Fatalf("publish: %v", err)
			case <-time.After(patience):
				t.Fatal("no acknowledgement of a publication")
			}
		}
		futures = futures[:0]
	}
	for id := from; id < to; id++ {
		f, err := js.PublishMsgAsync(&nats.Msg{Subject: subject(id), Data: encodeID(id)})
		if err != nil {
			t.Fatalf("publish %d: %v", id, err)
		}
		if futures = append(futures, f); len(futures) == cap(futures) {
			settle()
		}
	}
	settle()
}

func encodeID(id int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(id)) }

var errBadLength = errors.New("not an 8-byte id")

func decodeID(b []byte) (int, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: %d bytes", errBadLength, len(b))
	}
	return int(binary.BigEndian.Uint64(b)), nil
}

// rec is what the tests' sources decode a message into.
type rec struct {
	id        int
	delivered uint64 // how many times the server has delivered the message
}

func decodeRec(m natsjs.Msg) (rec, error) {
	id, err := decodeID(m.Data())
	if err != nil {
		return rec{}, err
	}
	md, err := m.Metadata()
	if err != nil {
		return rec{}, err
	}
	return rec{id: id, delivered: md.NumDelivered}, nil
}

// requestTimeout bounds one request to the server: a request lost while a connection fails
// over ends with it, and the waits below ask again.
const requestTimeout = 10 * time.Second

// tryConsumerInfo reads a consumer's state from the server.
func tryConsumerInfo(js natsjs.JetStream, stream, name string) (*natsjs.ConsumerInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	c, err := js.Consumer(ctx, stream, name)
	if err != nil {
		return nil, fmt.Errorf("consumer %q: %w", name, err)
	}
	return c.CachedInfo(), nil
}

// consumerInfo reads a consumer's state from the server, or fails the test.
func consumerInfo(t testing.TB, js natsjs.JetStream, stream, name string) *natsjs.ConsumerInfo {
	t.Helper()
	ci, err := tryConsumerInfo(js, stream, name)
	if err != nil {
		t.Fatal(err)
	}
	return ci
}

// waitAllAcked waits until the consumer has nothing left to deliver and nothing delivered
// unacknowledged, and returns its state then.
func waitAllAcked(t testing.TB, js natsjs.JetStream, stream, name string) *natsjs.ConsumerInfo {
	t.Helper()
	var (
		ci  *natsjs.ConsumerInfo
		err error
	)
	ok := eventually(func() bool {
		ci, err = tryConsumerInfo(js, stream, name)
		return err == nil && ci.NumPending == 0 && ci.NumAckPending == 0
	})
	switch {
	case ok:
		return ci
	case err != nil:
		t.Fatalf("after %v: %v", patience, err)
	default:
		t.Fatalf("consumer %q: %d pending and %d unacknowledged after %v", name, ci.NumPending, ci.NumAckPending, patience)
	}
	return nil
}

// eventually polls cond until it holds or patience runs out.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// tryStreamMsgs returns how many messages a stream holds.
func tryStreamMsgs(js natsjs.JetStream, name string) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("stream %q: %w", name, err)
	}
	return s.CachedInfo().State.Msgs, nil
}

// streamMsgs returns how many messages a stream holds, or fails the test.
func streamMsgs(t testing.TB, js natsjs.JetStream, name string) uint64 {
	t.Helper()
	n, err := tryStreamMsgs(js, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitStored waits until a stream holds at least n messages.
func waitStored(t testing.TB, js natsjs.JetStream, name string, n int) {
	t.Helper()
	var (
		got uint64
		err error
	)
	if !eventually(func() bool {
		got, err = tryStreamMsgs(js, name)
		return err == nil && got >= uint64(n)
	}) {
		t.Fatalf("stream %q holds %d messages of %d after %v (%v)", name, got, n, patience, err)
	}
}

// readIDs reads every message of a stream with an ordered consumer and counts each id.
func readIDs(t testing.TB, js natsjs.JetStream, stream string) map[int]int {
	t.Helper()
	want := streamMsgs(t, js, stream)
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, stream, natsjs.OrderedConsumerConfig{})
	if err != nil {
		t.Fatalf("ordered consumer on %q: %v", stream, err)
	}
	it, err := c.Messages()
	if err != nil {
		t.Fatalf("messages of %q: %v", stream, err)
	}
	defer it.Stop()
	ids := make(map[int]int, want)
	for range want {
		m, err := it.Next(natsjs.NextContext(ctx))
		if err != nil {
			t.Fatalf("read %q after %d of %d: %v", stream, len(ids), want, err)
		}
		id, err := decodeID(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		ids[id]++
	}
	return ids
}

// newGraph makes a graph in the mode LOOPYRING_FLOW_MODE names (auto, dedicated or shared;
// auto when unset), as flow's own suite does, so that the connector is checked in both.
func newGraph() *flow.Graph {
	switch m := os.Getenv("LOOPYRING_FLOW_MODE"); m {
	case "", "auto":
		return flow.New()
	case "dedicated":
		return flow.New(flow.GraphMode(flow.Dedicated))
	case "shared":
		return flow.New(flow.GraphMode(flow.Shared))
	default:
		panic(fmt.Sprintf("jetstream tests: LOOPYRING_FLOW_MODE=%q: want auto, dedicated or shared", m))
	}
}

// start starts g and registers a Stop for the end of the test.
func start(t testing.TB, g *flow.Graph) {
	t.Helper()
	if err := g.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = g.Stop() })
}

// waitGraph waits for g to stop by itself and returns its error.
func waitGraph(t testing.TB, g *flow.Graph) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(patience):
		t.Fatal("the graph did not stop")
		return nil
	}
}

// subjectID returns the id at the end of a subject such as "in.3.17".
func subjectID(subject string) int {
	id, err := strconv.Atoi(subject[strings.LastIndexByte(subject, '.')+1:])
	if err != nil {
		panic(err)
	}
	return id
}

// levelStats returns the summed stats of a level's stages.
func levelStats(g *flow.Graph, level string) flow.StageStats {
	var sum flow.StageStats
	for _, s := range g.Stats() {
		if s.Level == level {
			sum.In += s.In
			sum.Handled += s.Handled
			sum.Out += s.Out
			sum.Errors += s.Errors
			sum.Blocked += s.Blocked
		}
	}
	return sum
}
