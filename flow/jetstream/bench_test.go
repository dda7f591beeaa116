package jetstream_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow/jetstream"
)

// The benchmark's records: 128 bytes, an 8-byte id and a filler that depends on it, which
// decoding checks; the work hashes the whole payload, and the output carries the id and the
// hash, which the benchmark checks once the run is timed.
const benchPayload = 128

func benchRecord(id int) []byte {
	b := make([]byte, benchPayload)
	binary.BigEndian.PutUint64(b, uint64(id))
	for i := 8; i < len(b); i++ {
		b[i] = byte(id + i)
	}
	return b
}

type benchIn struct {
	id   int
	data []byte
}

var errBadRecord = errors.New("bad record")

func benchDecode(data []byte) (benchIn, error) {
	if len(data) != benchPayload {
		return benchIn{}, errBadRecord
	}
	id := int(binary.BigEndian.Uint64(data))
	for i := 8; i < len(data); i++ {
		if data[i] != byte(id+i) {
			return benchIn{}, errBadRecord
		}
	}
	return benchIn{id: id, data: data}, nil
}

type benchOut struct {
	id   int
	hash uint64
}

func benchWork(r benchIn) benchOut {
	h := fnv.New64a()
	h.Write(r.data)
	return benchOut{id: r.id, hash: h.Sum64()}
}

func benchEncode(o benchOut) *nats.Msg {
	data := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(o.id))
	return &nats.Msg{Subject: "out", Data: binary.BigEndian.AppendUint64(data, o.hash)}
}

// BenchmarkConsumeProduce consumes records from a durable consumer, hashes each, publishes
// the result to another stream and acknowledges the input once the output is stored: through
// a graph (source → KeyBy → 2 workers → sink), and through a plain nats.go loop (fetch a
// batch, do the work, publish the batch asynchronously, wait for its acknowledgements,
// acknowledge the inputs), against one embedded server in the same run. Each side's time
// runs from its start until every output is stored and every input acknowledged.
func BenchmarkConsumeProduce(b *testing.B) {
	s := runServer(b)
	_, js := connect(b, s.ClientURL())
	addStream(b, js, natsjs.StreamConfig{Name: "in", Subjects: []string{"in"}})
	addStream(b, js, natsjs.StreamConfig{Name: "out", Subjects: []string{"out"}})
	for _, side := range []struct {
		name string
		run  func(b *testing.B, js natsjs.JetStream, n int)
	}{
		{"graph", benchGraph},
		{"loop", benchLoop},
	} {
		b.Run(side.name, func(b *testing.B) {
			benchPrepare(b, js, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			side.run(b, js, b.N)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
			benchCheck(b, js, b.N)
		})
	}
}

// benchPrepare empties both streams, makes the consumer afresh and publishes n records.
func benchPrepare(b *testing.B, js natsjs.JetStream, n int) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	for _, name := range []string{"in", "out"} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Purge(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if err := js.DeleteConsumer(ctx, "in", "work"); err != nil && !errors.Is(err, natsjs.ErrConsumerNotFound) {
		b.Fatal(err)
	}
	addConsumer(b, js, "in", natsjs.ConsumerConfig{Durable: "work", MaxAckPending: 4096, AckWait: 2 * patience})
	futures := make([]natsjs.PubAckFuture, 0, 1024)
	for id := range n {
		f, err := js.PublishMsgAsync(&nats.Msg{Subject: "in", Data: benchRecord(id)})
		if err != nil {
			b.Fatal(err)
		}
		futures = append(futures, f)
		if len(futures) == cap(futures) || id == n-1 {
			for _, f := range futures {
				select {
				case <-f.Ok():
				case err := <-f.Err():
					b.Fatal(err)
				}
			}
			futures = futures[:0]
		}
	}
}

// benchCheck checks that every input is acknowledged and every output stored, with its hash.
func benchCheck(b *testing.B, js natsjs.JetStream, n int) {
	b.Helper()
	waitAllAcked(b, js, "in", "work")
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, "out", natsjs.OrderedConsumerConfig{})
	if err != nil {
		b.Fatal(err)
	}
	it, err := c.Messages()
	if err != nil {
		b.Fatal(err)
	}
	defer it.Stop()
	seen := make([]bool, n)
	for range n {
		m, err := it.Next(natsjs.NextContext(ctx))
		if err != nil {
			b.Fatal(err)
		}
		d := m.Data()
		id := int(binary.BigEndian.Uint64(d))
		if len(d) != 16 || id >= n || binary.BigEndian.Uint64(d[8:]) != benchWork(benchIn{id: id, data: benchRecord(id)}).hash {
			b.Fatalf("output %x is wrong", d)
		}
		seen[id] = true
	}
	for id, ok := range seen {
		if !ok {
			b.Fatalf("no output for record %d", id)
		}
	}
}

func benchGraph(b *testing.B, js natsjs.JetStream, n int) {
	g := newGraph()
	decode := func(m natsjs.Msg) (benchIn, error) { return benchDecode(m.Data()) }
	out := jetstream.Source(g, 1, jetstream.SourceConfig{JetStream: js, Stream: "in", Consumers: []string{"work"}}, decode).
		KeyBy(func(r benchIn) uint64 { return uint64(r.id) }).
		Then(2, benchWork)
	jetstream.Sink(out, 1, jetstream.SinkConfig{JetStream: js}, func(o benchOut) (*nats.Msg, error) { return benchEncode(o), nil })
	if err := g.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(patience)
	for streamMsgs(b, js, "out") < uint64(n) {
		if time.Now().After(deadline) {
			_ = g.Stop()
			b.Fatalf("%d of %d records through the graph", streamMsgs(b, js, "out"), n)
		}
		time.Sleep(time.Millisecond)
	}
	if err := g.Stop(); err != nil {
		b.Fatal(err)
	}
}

func benchLoop(b *testing.B, js natsjs.JetStream, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	c, err := js.Consumer(ctx, "in", "work")
	if err != nil {
		b.Fatal(err)
	}
	var (
		msgs    []natsjs.Msg
		futures []natsjs.PubAckFuture
	)
	for done := 0; done < n; {
		batch, err := c.Fetch(256, natsjs.FetchMaxWait(time.Second))
		if err != nil {
			b.Fatal(err)
		}
		msgs, futures = msgs[:0], futures[:0]
		for m := range batch.Messages() {
			r, err := benchDecode(m.Data())
			if err != nil {
				b.Fatal(err)
			}
			f, err := js.PublishMsgAsync(benchEncode(benchWork(r)))
			if err != nil {
				b.Fatal(err)
			}
			msgs, futures = append(msgs, m), append(futures, f)
		}
		if err := batch.Error(); err != nil {
			b.Fatal(err)
		}
		for _, f := range futures {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				b.Fatal(err)
			}
		}
		for _, m := range msgs {
			if err := m.Ack(); err != nil {
				b.Fatal(err)
			}
		}
		done += len(msgs)
	}
	if err := js.Conn().Flush(); err != nil {
		b.Fatal(fmt.Errorf("flush: %w", err))
	}
}
