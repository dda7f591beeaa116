package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// producer writes lines into the input topic, one record per line, to its partitions in
// turn, so that every worker of the group gets some.
type producer struct{ cl *kgo.Client }

func newProducer(ctx context.Context, brokers []string) (*producer, error) {
	cl, err := connect(ctx, brokers,
		kgo.DefaultProduceTopic(inputTopic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		return nil, err
	}
	return &producer{cl: cl}, nil
}

// produce writes lines and returns once the broker has every one of them.
func (p *producer) produce(ctx context.Context, lines []string) error {
	recs := make([]*kgo.Record, len(lines))
	for i, l := range lines {
		recs[i] = &kgo.Record{Value: []byte(l)}
	}
	if err := p.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce into %s: %w", inputTopic, err)
	}
	return nil
}

func (p *producer) close() { p.cl.Close() }

// produceMain is the produce command: the lines of a file, or of standard input.
func produceMain(ctx context.Context, w io.Writer, stdin io.Reader, args []string) error {
	fs := flag.NewFlagSet("produce", flag.ExitOnError)
	brokers := fs.String("brokers", defaultSeed, "seed brokers, comma-separated")
	path := fs.String("file", "", "text file to produce, a record per line (default: standard input)")
	_ = fs.Parse(args)
	r := stdin
	if *path != "" {
		f, err := os.Open(*path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	p, err := newProducer(ctx, splitBrokers(*brokers))
	if err != nil {
		return err
	}
	defer p.close()
	lines, words, err := produceFrom(ctx, p, r)
	fmt.Fprintf(w, "produced %d lines (%d words) into %s\n", lines, words, inputTopic)
	return err
}

// produceFrom produces the lines of r that hold a word, in batches, and returns how many
// lines, and words in them, the broker has.
func produceFrom(ctx context.Context, p *producer, r io.Reader) (lines, words int, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var batch []string
	batchWords := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := p.produce(ctx, batch); err != nil {
			return err
		}
		lines, words = lines+len(batch), words+batchWords
		batch, batchWords = batch[:0], 0
		return nil
	}
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if n := countWords(l); n > 0 {
			batch = append(batch, l)
			batchWords += n
		}
		if len(batch) == 512 {
			if err := flush(); err != nil {
				return lines, words, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return lines, words, err
	}
	return lines, words, flush()
}
