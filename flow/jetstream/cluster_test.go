package jetstream_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// freePorts returns n ports that nothing listened on a moment ago: the cluster's route
// ports, which every node must know before any starts.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// runCluster starts a JetStream cluster of n embedded servers, routed to each other, and
// shuts them down when the test ends.
func runCluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	ports := freePorts(t, n)
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats-route", Host: "127.0.0.1:" + strconv.Itoa(p)}
	}
	servers := make([]*server.Server, n)
	for i := range servers {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("node%d", i),
			Host:       "127.0.0.1",
			Port:       -1,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			Cluster:    server.ClusterOpts{Name: "loopy", Host: "127.0.0.1", Port: ports[i]},
			Routes:     routes,
			NoLog:      true,
			NoSigs:     true,
		})
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		s.Start()
		t.Cleanup(func() {
			s.Shutdown()
			s.WaitForShutdown()
		})
		servers[i] = s
	}
	for i, s := range servers {
		if !s.ReadyForConnections(patience) {
			t.Fatalf("server %d is not ready for connections", i)
		}
	}
	return servers
}

// clusterURL lists every node's client URL, for a connection that fails over.
func clusterURL(servers []*server.Server) string {
	urls := make([]string, len(servers))
	for i, s := range servers {
		urls[i] = s.ClientURL()
	}
	return strings.Join(urls, ",")
}

// addStreamWhenReady creates a stream once the cluster has elected its JetStream leader.
func addStreamWhenReady(t testing.TB, js natsjs.JetStream, cfg natsjs.StreamConfig) {
	t.Helper()
	var err error
	if !eventually(func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = js.CreateStream(ctx, cfg)
		return err == nil
	}) {
		t.Fatalf("create stream %q: %v", cfg.Name, err)
	}
}

// TestClusterNodeStoppedMidStream runs records from a three-node cluster through a graph and
// back to it, with every stream and the consumer replicated on all three, and stops the node
// that the graph's connection uses while the records flow: the connection fails over, the
// fetch, the acknowledgements and the publications carry on through the other two nodes,
// and every record ends up stored and acknowledged.
func TestClusterNodeStoppedMidStream(t *testing.T) {
	n := scaleOutRecords(t) / 10
	servers := runCluster(t, 3)
	_, js := connect(t, clusterURL(servers), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	addStreamWhenReady(t, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}, Replicas: 3})
	addStreamWhenReady(t, js, natsjs.StreamConfig{Name: "out", Subjects: []string{"out.>"}, Replicas: 3})
	// AckWait outlasts an election (several seconds), so that a failover stalls the graph
	// without redelivering all it holds.
	addConsumer(t, js, "in", natsjs.ConsumerConfig{Durable: "work", MaxAckPending: 512, AckWait: 10 * time.Second})
	publishIDs(t, js, 0, n, func(int) string { return "in" })

	ncG, jsG := connect(t, clusterURL(servers), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	c := newTally(n)
	g := newGraph()
	work := jetstream.Source(g, 1, jetstream.SourceConfig{JetStream: jsG, Stream: "in", Consumers: []string{"work"}}, decodeRec).
		KeyBy(func(r rec) uint64 { return uint64(r.id) }).
		Then(2, func(r rec) int {
			c.see(r)
			return r.id
		})
	// Lost acknowledgements are retried for as long as an election may take; the message id
	// lets the stream drop what a retry stores twice.
	sinkCfg := jetstream.SinkConfig{JetStream: jsG, Timeout: 2 * time.Second, Attempts: 30, RetryWait: 200 * time.Millisecond}
	jetstream.Sink(work, 1, sinkCfg, encodeOut, flow.Name("publish"))
	start(t, g)
	if !eventually(func() bool { return c.total.Load() >= int64(n/3) }) {
		t.Fatalf("%d records before the node stops", c.total.Load())
	}
	stopped := ncG.ConnectedServerName()
	for _, s := range servers {
		if s.Name() == stopped {
			s.Shutdown()
		}
	}
	ci := waitAllAcked(t, js, "in", "work")
	waitStored(t, js, "out", n)
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	stored := readIDs(t, js, "out")
	for id := range n {
		if stored[id] != 1 {
			t.Fatalf("record %d stored %d times", id, stored[id])
		}
	}
	dups := c.total.Load() - int64(n)
	redeliveries := int64(ci.Delivered.Consumer) - int64(n)
	t.Logf("stopped %s; %d records processed twice, %d redeliveries", stopped, dups, redeliveries)
	if dups > redeliveries {
		t.Fatalf("%d records processed twice from %d redeliveries", dups, redeliveries)
	}
}
