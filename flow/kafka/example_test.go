package kafka_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A graph that consumes a topic, doubles every number and produces the results to another
// topic; Stop commits the end of the input.
func ExampleSource() {
	// An in-process cluster stands in for Kafka.
	fake, _ := kfake.NewCluster(kfake.SeedTopics(2, "numbers", "doubled"))
	defer fake.Close()
	brokers := fake.ListenAddrs()
	cl, _ := kgo.NewClient(kgo.SeedBrokers(brokers...))
	defer cl.Close()
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		cl.ProduceSync(ctx, &kgo.Record{Topic: "numbers", Value: []byte(strconv.Itoa(i))})
	}

	g := flow.New()
	numbers := kafka.Source(g, 1, kafka.SourceConfig{
		Brokers: brokers,
		Topics:  []string{"numbers"},
		Group:   "doubler",
		Options: []kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())},
	}, func(r *kgo.Record) (int, error) { return strconv.Atoi(string(r.Value)) })
	var sum atomic.Int64
	doubled := numbers.Then(2, func(n int) int { sum.Add(int64(2 * n)); return 2 * n })
	kafka.Sink(doubled, 1, kafka.SinkConfig{Brokers: brokers, Topic: "doubled"},
		func(n int) (*kgo.Record, error) { return &kgo.Record{Value: []byte(strconv.Itoa(n))}, nil })
	if err := g.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for sum.Load() < 110 { // 2 × (1 + ... + 10)
		time.Sleep(time.Millisecond)
	}
	if err := g.Stop(); err != nil {
		fmt.Println(err)
		return
	}

	adm := kadm.NewClient(cl)
	committed, _ := adm.FetchOffsets(ctx, "doubler")
	ends, _ := adm.ListEndOffsets(ctx, "doubled")
	total := int64(0)
	committed.Each(func(o kadm.OffsetResponse) { total += o.At })
	produced := int64(0)
	ends.Each(func(o kadm.ListedOffset) { produced += o.Offset })
	fmt.Println("sum of the doubled:", sum.Load())
	fmt.Println("records committed:", total)
	fmt.Println("records produced:", produced)
	// Output:
	// sum of the doubled: 110
	// records committed: 10
	// records produced: 10
}

// A graph that doubles every number of one topic into another exactly once: the input's
// offsets commit in the transactions that carry the doubled numbers, which a reader of
// committed records sees once each.
func ExampleTransact() {
	fake, _ := kfake.NewCluster(kfake.SeedTopics(2, "numbers", "doubled"))
	defer fake.Close()
	brokers := fake.ListenAddrs()
	cl, _ := kgo.NewClient(kgo.SeedBrokers(brokers...))
	defer cl.Close()
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		cl.ProduceSync(ctx, &kgo.Record{Topic: "numbers", Value: []byte(strconv.Itoa(i))})
	}

	g := flow.New()
	var committed atomic.Int64
	kafka.Transact(g, 1, kafka.TransactConfig{
		Brokers:         brokers,
		Topics:          []string{"numbers"},
		Group:           "doubler",
		TransactionalID: "doubler-1",
		Topic:           "doubled",
		OnTransaction: func(records int, ok bool, _ error) {
			if ok {
				committed.Add(int64(records))
			}
		},
		Options: []kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())},
	}, func(r *kgo.Record) (int, error) { return strconv.Atoi(string(r.Value)) },
		func(numbers *flow.Stream[int]) *flow.Stream[int] {
			return numbers.Then(2, func(n int) int { return 2 * n })
		},
		func(n int) (*kgo.Record, error) { return &kgo.Record{Value: []byte(strconv.Itoa(n))}, nil })
	if err := g.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	for committed.Load() < 10 {
		time.Sleep(time.Millisecond)
	}
	if err := g.Stop(); err != nil {
		fmt.Println(err)
		return
	}

	rd, _ := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics("doubled"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	defer rd.Close()
	read, sum := 0, 0
	for read < 10 {
		rd.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			n, _ := strconv.Atoi(string(r.Value))
			read++
			sum += n
		})
	}
	fmt.Println("records committed:", committed.Load())
	fmt.Println("sum of the doubled, read committed:", sum)
	// Output:
	// records committed: 10
	// sum of the doubled, read committed: 110
}
