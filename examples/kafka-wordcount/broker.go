package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// brokerConfig is what the broker command serves.
type brokerConfig struct {
	Port       int           // the first broker's port, the others' follow; 0: ports the system picks
	Nodes      int           // brokers in the cluster
	Partitions int           // partitions of the input topic
	Rate       int           // lines produced a second; 0: none
	Every      time.Duration // how often to print what was produced
	Seed       uint64        // the text generator's seed
}

// countsPartitions is the output topic's partition count. A word's records all go to one
// of them, since the sink's records are keyed by word.
const countsPartitions = 3

// newCluster starts a kfake cluster, franz-go's in-process Kafka, that listens on loopback
// and holds the input and output topics. It keeps everything in memory: closing it loses
// the topics and the group's commits.
func newCluster(cfg brokerConfig) (*kfake.Cluster, error) {
	opts := []kfake.Opt{
		kfake.SeedTopics(int32(cfg.Partitions), inputTopic),
		kfake.SeedTopics(countsPartitions, outputTopic),
	}
	where := "127.0.0.1 (any free ports)"
	if cfg.Port > 0 {
		ports := make([]int, cfg.Nodes)
		for i := range ports {
			ports[i] = cfg.Port + i
		}
		opts = append(opts, kfake.Ports(ports...))
		where = fmt.Sprintf("127.0.0.1 ports %d-%d", ports[0], ports[len(ports)-1])
	} else {
		opts = append(opts, kfake.NumBrokers(cfg.Nodes))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start a cluster of %d brokers on %s: %w", cfg.Nodes, where, err)
	}
	return c, nil
}

func brokerMain(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("broker", flag.ExitOnError)
	cfg := brokerConfig{Seed: 1}
	fs.IntVar(&cfg.Port, "port", 9092, "the first broker's port on 127.0.0.1; the others take the next ones")
	fs.IntVar(&cfg.Nodes, "nodes", 3, "brokers in the cluster")
	fs.IntVar(&cfg.Partitions, "partitions", 6, "partitions of the input topic '"+inputTopic+"'")
	fs.IntVar(&cfg.Rate, "rate", 20, "lines of text to produce a second (0: none; use the produce command)")
	fs.DurationVar(&cfg.Every, "every", 5*time.Second, "how often to print what was produced")
	_ = fs.Parse(args)
	if cfg.Nodes < 1 || cfg.Partitions < 1 || cfg.Rate < 0 || cfg.Every <= 0 {
		return fmt.Errorf("want -nodes and -partitions of at least 1, -rate of at least 0 and a positive -every")
	}
	return runBroker(ctx, w, cfg)
}

// runBroker serves the cluster until ctx ends, producing cfg.Rate lines a second.
func runBroker(ctx context.Context, w io.Writer, cfg brokerConfig) error {
	c, err := newCluster(cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	addrs := c.ListenAddrs()
	fmt.Fprintf(w, "broker: kfake cluster of %d brokers on %s\n", len(addrs), strings.Join(addrs, ","))
	fmt.Fprintf(w, "broker: topic %s (%d partitions) is the input, %s (%d partitions) the counts\n",
		inputTopic, cfg.Partitions, outputTopic, countsPartitions)
	fmt.Fprintf(w, "broker: start workers with: go run ./examples/kafka-wordcount worker -brokers %s -name one\n", addrs[0])
	if cfg.Rate == 0 {
		fmt.Fprintln(w, "broker: producing nothing (-rate 0); Ctrl-C closes the cluster")
		<-ctx.Done()
		fmt.Fprintln(w, "broker: closing the cluster")
		return nil
	}
	fmt.Fprintf(w, "broker: producing %d lines a second into %s; Ctrl-C closes the cluster\n", cfg.Rate, inputTopic)
	p, err := newProducer(ctx, addrs)
	if err != nil {
		return err
	}
	defer p.close()

	mk := newLineMaker(cfg.Seed)
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	report := time.NewTicker(cfg.Every)
	defer report.Stop()
	lines, words := 0, 0
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(w, "broker: produced %d lines (%d words) in all; closing the cluster\n", lines, words)
			return nil
		case <-report.C:
			fmt.Fprintf(w, "broker: produced %d lines (%d words) into %s\n", lines, words, inputTopic)
		case <-tick.C:
			// Lines are due at the rate since start, so a slow round is made up in the next.
			due := int(time.Since(start).Seconds()*float64(cfg.Rate)) - lines
			if due <= 0 {
				continue
			}
			batch := make([]string, min(due, 1000))
			n := 0
			for i := range batch {
				batch[i] = mk.line()
				n += countWords(batch[i])
			}
			if err := p.produce(ctx, batch); err != nil {
				if ctx.Err() != nil {
					continue // the next round sees ctx.Done
				}
				return err
			}
			lines, words = lines+len(batch), words+n
		}
	}
}
