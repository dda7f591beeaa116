package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// workerConfig is one worker's setup.
type workerConfig struct {
	Brokers   []string
	Group     string
	Name      string        // the members' client ID, by which the status finds the worker's partitions
	Every     time.Duration // how often to print the status
	Top       int           // words on the status line
	Splitters int
	Counters  int

	// Group timing. The heartbeat bounds how soon a member hears of a rebalance; the
	// session, how long the partitions of a worker that died without leaving wait.
	CommitInterval time.Duration
	Heartbeat      time.Duration
	Session        time.Duration

	// onCommit, when set, is called after every commit with what the consumer committed
	// (the tests watch partitions move through it).
	onCommit func(offsets map[string]map[int32]int64, err error)
}

var defaultWorker = workerConfig{
	Brokers:        []string{defaultSeed},
	Group:          defaultGroup,
	Name:           fmt.Sprintf("worker-%d", os.Getpid()),
	Every:          2 * time.Second,
	Top:            5,
	Splitters:      2,
	Counters:       2,
	CommitInterval: time.Second,
	Heartbeat:      500 * time.Millisecond,
	Session:        10 * time.Second,
}

func workerMain(ctx context.Context, w io.Writer, args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	cfg := defaultWorker
	brokers := fs.String("brokers", defaultSeed, "seed brokers, comma-separated")
	fs.StringVar(&cfg.Group, "group", cfg.Group, "consumer group; workers of one group share the partitions")
	fs.StringVar(&cfg.Name, "name", cfg.Name, "this worker's name (its client ID); give each worker its own")
	fs.DurationVar(&cfg.Every, "every", cfg.Every, "how often to print the partitions owned and the counts")
	fs.IntVar(&cfg.Top, "top", cfg.Top, "words on the status line")
	fs.IntVar(&cfg.Splitters, "splitters", cfg.Splitters, "splitting stages")
	fs.IntVar(&cfg.Counters, "counters", cfg.Counters, "counting stages")
	fs.DurationVar(&cfg.CommitInterval, "commit", cfg.CommitInterval, "how often to commit what the graph finished")
	_ = fs.Parse(args)
	cfg.Brokers = splitBrokers(*brokers)
	if len(cfg.Brokers) == 0 || cfg.Group == "" || cfg.Name == "" || cfg.Every <= 0 {
		return fmt.Errorf("want -brokers, -group, -name and a positive -every")
	}
	return runWorker(ctx, w, cfg)
}

// runWorker runs a worker's graph until ctx ends, then stops it cleanly: Stop drains the
// graph, commits what it finished, and leaves the group, whose other members then take the
// worker's partitions. Every cfg.Every it prints the partitions the worker owns, what it
// committed in them, and what it counted.
func runWorker(ctx context.Context, out io.Writer, cfg workerConfig) error {
	// The status's own client also checks, before the graph starts, that the cluster
	// answers: the graph's clients would wait their dial timeouts.
	cl, err := connect(ctx, cfg.Brokers)
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	w := &lockedWriter{w: out}
	cm, t := newCommits(), newTally()
	src := kafka.SourceConfig{
		Brokers:        cfg.Brokers,
		Topics:         []string{inputTopic},
		Group:          cfg.Group,
		CommitInterval: cfg.CommitInterval,
		OnCommit: func(offsets map[string]map[int32]int64, err error) {
			cm.record(offsets, err)
			if err != nil {
				// A failed commit is tried again at the next; only a crash or a lost
				// partition before one succeeds has lines counted twice.
				w.printf("%s: commit failed: %v\n", cfg.Name, err)
			}
			if cfg.onCommit != nil {
				cfg.onCommit(offsets, err)
			}
		},
		Options: []kgo.Opt{
			kgo.ClientID(cfg.Name),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), // a new group counts the topic from its start
			kgo.HeartbeatInterval(cfg.Heartbeat),
			kgo.SessionTimeout(cfg.Session),
		},
	}
	g := flow.New()
	buildWorker(g, src, kafka.SinkConfig{Brokers: cfg.Brokers, Topic: outputTopic}, cfg.Splitters, cfg.Counters, t)
	if err := g.Start(context.Background()); err != nil {
		return fmt.Errorf("start the graph: %w", err)
	}
	w.printf("%s: joined group %s on %s: counting the words of %s into %s\n",
		cfg.Name, cfg.Group, strings.Join(cfg.Brokers, ","), inputTopic, outputTopic)
	ended := make(chan error, 1)
	go func() { ended <- g.Wait() }()

	tick := time.NewTicker(cfg.Every)
	defer tick.Stop()
	var mine []int32 // the partitions the last stable description gave this worker
	for {
		select {
		case <-ctx.Done():
			w.printf("%s: stopping: draining the graph, committing, leaving the group\n", cfg.Name)
			err := g.Stop()
			<-ended
			w.printf("%s: stopped; committed %s; %s\n", cfg.Name, cm.format(cm.partitions()), t.summary(cfg.Top))
			if err != nil {
				return fmt.Errorf("stop: %w", err)
			}
			return nil
		case err := <-ended:
			// The graph stopped by itself: a level failed (the cluster went away, a commit
			// failed at the end).
			return fmt.Errorf("the graph stopped: %w", err)
		case <-tick.C:
			mine = status(ctx, w, adm, cfg, mine, cm, t)
		}
	}
}

// status prints one status line, and a line of its own when the worker's partitions
// changed since the last stable description (was). It returns the partitions it saw.
func status(ctx context.Context, w *lockedWriter, adm *kadm.Client, cfg workerConfig, was []int32, cm *commits, t *tally) []int32 {
	dctx, cancel := context.WithTimeout(ctx, cfg.Every)
	defer cancel()
	parts, state, members, err := owned(dctx, adm, cfg.Group, cfg.Name)
	if err != nil {
		if ctx.Err() == nil {
			w.printf("%s: %v\n", cfg.Name, err)
		}
		return was
	}
	counted := t.summary(cfg.Top)
	if state != "Stable" {
		// Mid-rebalance the description holds the old assignment or none.
		w.printf("%s: group %s is rebalancing (%s, %d members); %s\n", cfg.Name, cfg.Group, state, members, counted)
		return was
	}
	if !slices.Equal(parts, was) {
		w.printf("%s: partitions now %s (had %s), group of %d\n", cfg.Name, formatParts(parts), formatParts(was), members)
	}
	w.printf("%s: owns %s | committed %s | %s\n", cfg.Name, formatParts(parts), cm.format(parts), counted)
	return parts
}
