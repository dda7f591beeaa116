package jetstream_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// Orders come in on ORDERS, are priced by a graph keyed by customer, and leave as bills on
// BILLS; each order is acknowledged once its bill is stored. (The example runs its own
// embedded server; a program connects to its servers.)
func Example() {
	dir, err := os.MkdirTemp("", "jetstream-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		log.Fatal(err)
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	if !srv.ReadyForConnections(10 * time.Second) {
		log.Fatal("server not ready")
	}

	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close() // after the graph's Stop: its last acknowledgements travel on nc
	js, err := natsjs.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, cfg := range []natsjs.StreamConfig{
		{Name: "ORDERS", Subjects: []string{"orders.*"}}, // orders.<customer>
		{Name: "BILLS", Subjects: []string{"bills.*"}},
	} {
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, "ORDERS", natsjs.ConsumerConfig{
		Durable: "billing", AckPolicy: natsjs.AckExplicitPolicy,
	}); err != nil {
		log.Fatal(err)
	}
	for i := range 100 {
		if _, err := js.Publish(ctx, fmt.Sprintf("orders.c%d", i%7), []byte(strconv.Itoa(i))); err != nil {
			log.Fatal(err)
		}
	}

	type order struct {
		customer string
		units    int
	}
	decode := func(m natsjs.Msg) (order, error) {
		units, err := strconv.Atoi(string(m.Data()))
		return order{customer: m.Subject()[len("orders."):], units: units}, err
	}
	encode := func(o order) (*nats.Msg, error) {
		return &nats.Msg{Subject: "bills." + o.customer, Data: []byte(strconv.Itoa(3 * o.units))}, nil
	}

	g := flow.New()
	orders := jetstream.Source(g, 1, jetstream.SourceConfig{
		JetStream: js, Stream: "ORDERS", Consumers: []string{"billing"}, Name: "orders",
	}, decode, flow.OnError(flow.Skip))
	bills := orders.KeyBy(func(o order) uint64 { return uint64(o.customer[1]) }).
		Then(2, func(o order) order { return o }, flow.Name("price"))
	jetstream.Sink(bills, 1, jetstream.SinkConfig{JetStream: js}, encode, flow.Name("bills"))
	if err := g.Start(ctx); err != nil {
		log.Fatal(err)
	}
	for {
		s, err := js.Stream(ctx, "BILLS")
		if err != nil {
			log.Fatal(err)
		}
		if s.CachedInfo().State.Msgs == 100 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := g.Stop(); err != nil { // drains, acknowledges, flushes
		log.Fatal(err)
	}

	// The server has every acknowledgement when Stop returns, and applies them a moment later.
	for {
		c, err := js.Consumer(ctx, "ORDERS", "billing")
		if err != nil {
			log.Fatal(err)
		}
		if info := c.CachedInfo(); info.NumAckPending == 0 {
			fmt.Printf("orders acknowledged: %d, bills stored: 100\n", info.AckFloor.Stream)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Output: orders acknowledged: 100, bills stored: 100
}
