package kafka_test

// Consume → work → produce, at least once, through a graph and through franz-go's own
// pattern of a goroutine per partition, and exactly once through a Transact graph, in the
// same run, against the same in-process cluster. Each op reads every record of the input
// topic as a new group, produces one record per record read, and ends once the group has
// committed the end of the input.

import (
	"context"
	"encoding/binary"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// work is what both sides do per record: a few hundred nanoseconds of arithmetic on the
// record's id, whose result is the produced record's value.
func work(id uint64) uint64 {
	x := id | 1
	for range 256 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// benchRecord is a record as both sides see it once read.
type benchRecord struct {
	key []byte
	id  uint64
}

func decodeBench(r *kgo.Record) (benchRecord, error) {
	return benchRecord{r.Key, binary.BigEndian.Uint64(r.Value)}, nil
}

func keyHash(k []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range k {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

func BenchmarkConsumeWorkProduce(b *testing.B) {
	records := 200000
	if testing.Short() {
		records = 20000
	}
	fake, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(8, "in", "out"))
	if err != nil {
		b.Fatal(err)
	}
	defer fake.Close()
	brokers := fake.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	for lo := 0; lo < records; lo += 4096 {
		var recs []*kgo.Record
		for i := lo; i < min(records, lo+4096); i++ {
			recs = append(recs, &kgo.Record{Topic: "in", Key: []byte("k" + strconv.Itoa(i%1000)), Value: idValue(uint64(i))})
		}
		if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	group := 0
	for _, bc := range []struct {
		name string
		run  func(b *testing.B, brokers []string, group string, records int)
	}{
		{"flow", runFlow},
		{"plain", runPlain},
		{"transact", runTransact(0)},
		{"transact/records=1000", runTransact(1000)},
		{"transact/records=100", runTransact(100)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			transactions.Store(0)
			start := time.Now()
			for b.Loop() {
				group++
				bc.run(b, brokers, "bench"+strconv.Itoa(group), records)
			}
			b.ReportMetric(float64(records*b.N)/time.Since(start).Seconds(), "records/s")
			if n := transactions.Load(); n > 0 {
				b.ReportMetric(float64(n)/float64(b.N), "transactions/op")
			}
		})
	}
}

func consumeFromStart() []kgo.Opt {
	return []kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50 * time.Millisecond)}
}

// runFlow: a consumer, a level of two workers keyed by the record key, a producer.
func runFlow(b *testing.B, brokers []string, group string, records int) {
	var worked atomic.Int64
	g := flow.New()
	in := kafka.Source(g, 1, kafka.SourceConfig{
		Brokers: brokers, Topics: []string{"in"}, Group: group, Options: consumeFromStart(),
	}, decodeBench)
	out := in.KeyBy(func(r benchRecord) uint64 { return keyHash(r.key) }).
		Then(2, func(r benchRecord) *kgo.Record {
			v := work(r.id)
			worked.Add(1)
			return &kgo.Record{Key: r.key, Value: binary.BigEndian.AppendUint64(nil, v)}
		})
	kafka.Sink(out, 1, kafka.SinkConfig{Brokers: brokers, Topic: "out"},
		func(r *kgo.Record) (*kgo.Record, error) { return r, nil })
	if err := g.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	for worked.Load() < int64(records) {
		time.Sleep(100 * time.Microsecond)
	}
	if err := g.Stop(); err != nil { // produces the rest, and commits the end
		b.Fatal(err)
	}
}

// transactions counts the transactions runTransact's graphs committed in one sub-benchmark.
var transactions atomic.Int64

// runTransact returns runFlow's graph, exactly once: Transact (one member, transactions of
// at most maxRecords records, or the default MaxRecords when 0, and the default Interval)
// with the same KeyBy and two workers as body, and one producing stage, each op with its own
// transactional id. Smaller transactions show what a cut costs. It checks that the committed
// transactions carried every record.
func runTransact(maxRecords int) func(b *testing.B, brokers []string, group string, records int) {
	return func(b *testing.B, brokers []string, group string, records int) {
		transact(b, brokers, group, records, maxRecords)
	}
}

func transact(b *testing.B, brokers []string, group string, records, maxRecords int) {
	var worked, committed atomic.Int64
	g := flow.New()
	kafka.Transact(g, 1, kafka.TransactConfig{
		Brokers: brokers, Topics: []string{"in"}, Group: group, TransactionalID: group, Topic: "out",
		MaxRecords: maxRecords,
		Options:    consumeFromStart(),
		OnTransaction: func(n int, ok bool, _ error) {
			if ok {
				committed.Add(int64(n))
				transactions.Add(1)
			}
		},
	}, decodeBench, func(in *flow.Stream[benchRecord]) *flow.Stream[*kgo.Record] {
		return in.KeyBy(func(r benchRecord) uint64 { return keyHash(r.key) }).
			Then(2, func(r benchRecord) *kgo.Record {
				v := work(r.id)
				worked.Add(1)
				return &kgo.Record{Key: r.key, Value: binary.BigEndian.AppendUint64(nil, v)}
			})
	}, func(r *kgo.Record) (*kgo.Record, error) { return r, nil })
	if err := g.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	for worked.Load() < int64(records) {
		time.Sleep(100 * time.Microsecond)
	}
	if err := g.Stop(); err != nil { // ends the last transaction
		b.Fatal(err)
	}
	if got := committed.Load(); got != int64(records) {
		b.Fatalf("committed transactions carried %d records; want %d", got, records)
	}
}

// runPlain: franz-go's goroutine per partition. The poll loop hands each partition's records
// to that partition's goroutine (a channel of one poll, so that a slow partition holds the
// poll loop back); the goroutine works, produces, waits for the acknowledgements and marks
// the records for the client's periodic commit; the end is committed synchronously.
func runPlain(b *testing.B, brokers []string, group string, records int) {
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0), kgo.DefaultProduceTopic("out"))
	if err != nil {
		b.Fatal(err)
	}
	defer prod.Close()
	opts := append(consumeFromStart(), kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(group),
		kgo.ConsumeTopics("in"), kgo.AutoCommitMarks(), kgo.AutoCommitInterval(time.Second))
	cons, err := kgo.NewClient(opts...)
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()

	var marked atomic.Int64
	var wg sync.WaitGroup
	workers := map[int32]chan []*kgo.Record{}
	partition := func(ch chan []*kgo.Record) {
		defer wg.Done()
		var acks sync.WaitGroup
		var failed atomic.Pointer[error]
		promise := func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Store(&err)
			}
			acks.Done()
		}
		for recs := range ch {
			for _, r := range recs {
				v := work(binary.BigEndian.Uint64(r.Value))
				acks.Add(1)
				prod.Produce(context.Background(), &kgo.Record{Key: r.Key, Value: binary.BigEndian.AppendUint64(nil, v)}, promise)
			}
			acks.Wait()
			if err := failed.Load(); err != nil {
				b.Error(*err)
				return
			}
			cons.MarkCommitRecords(recs...)
			marked.Add(int64(len(recs)))
		}
	}
	for marked.Load() < int64(records) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		fs := cons.PollRecords(ctx, 1024)
		cancel()
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if len(p.Records) == 0 {
				return
			}
			ch := workers[p.Partition]
			if ch == nil {
				ch = make(chan []*kgo.Record, 1)
				workers[p.Partition] = ch
				wg.Add(1)
				go partition(ch)
			}
			ch <- p.Records
		})
	}
	for _, ch := range workers {
		close(ch)
	}
	wg.Wait()
	if err := cons.CommitMarkedOffsets(context.Background()); err != nil {
		b.Fatal(err)
	}
}
