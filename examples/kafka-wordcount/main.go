// Command kafka-wordcount counts the words of lines read from Kafka with flow graphs that
// share a consumer group, so that a user watches the group move the input's partitions from
// worker to worker. It has four commands:
//
//	go run ./examples/kafka-wordcount broker   # an in-process Kafka (kfake) that produces text
//	go run ./examples/kafka-wordcount worker   # a graph: lines → words → counts; run several
//	go run ./examples/kafka-wordcount produce  # more lines, from a file or standard input
//	go run ./examples/kafka-wordcount totals   # the counts the workers wrote, summed
//
// A worker's graph is kafka.Source (the group) → split → KeyBy(word) → count → kafka.Sink:
// each batch of words becomes one record per distinct word, the word and how often the batch
// held it, on the output topic; a word's count is the sum of its records.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// The topics the broker creates and the workers read and write.
const (
	inputTopic   = "lines"
	outputTopic  = "counts"
	defaultGroup = "wordcount"
	defaultSeed  = "127.0.0.1:9092"
)

const usage = `usage: kafka-wordcount <command> [flags]

commands:
  broker    start an in-process Kafka cluster (kfake) and produce lines of text into it
  worker    count words from the input topic as a member of the group; run several
  produce   produce the lines of a file (or standard input) into the input topic
  totals    sum the counts the workers wrote and print the most frequent words

'kafka-wordcount <command> -h' lists a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// SIGINT (Ctrl-C) and SIGTERM end the command cleanly: a worker drains its graph,
	// commits and leaves the group; the broker closes the cluster.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "broker":
		err = brokerMain(ctx, os.Stdout, args)
	case "worker":
		err = workerMain(ctx, os.Stdout, args)
	case "produce":
		err = produceMain(ctx, os.Stdout, os.Stdin, args)
	case "totals":
		err = totalsMain(ctx, os.Stdout, args)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "kafka-wordcount: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kafka-wordcount %s: %v\n", cmd, err)
		os.Exit(1)
	}
}

// lockedWriter serializes the lines that a command's goroutines print.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}
