package jetstream

import (
	"fmt"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
)

// SourceConfig says what a source level consumes and at what pace it acknowledges. The zero
// values of the numeric fields select the defaults.
type SourceConfig struct {
	// JetStream is the context through which the stages look their consumers up and fetch.
	// Its connection must stay open until the graph has stopped: the stages send their last
	// acknowledgements while the graph drains.
	JetStream natsjs.JetStream
	// Stream names the stream the consumers belong to.
	Stream string
	// Consumers names the pull consumers the stages read; each must acknowledge explicitly
	// (AckExplicitPolicy). Stage i reads Consumers[i%len(Consumers)]: one name shares one
	// consumer among all the stages, n names give each stage a consumer of its own (one per
	// partition, see the package documentation).
	Consumers []string
	// Name names the fetching level; the decoding level is Name+".decode" unless the options
	// given to Source name it. The default is "jetstream".
	Name string
	// Batch is how many messages a stage asks the server for at a time, and how many fetched
	// messages the hand-over to the stage holds: besides its ring, a stage holds at most
	// three times Batch messages (one request's, the hand-over's, and what it is emitting).
	// The default is 256.
	Batch int
	// AckInterval is how often a stage acknowledges what the graph has finished. The default
	// is 10ms.
	AckInterval time.Duration
	// Timeout bounds the lookup of a consumer when a stage starts and the flush of the last
	// acknowledgements when it ends. The default is 5s.
	Timeout time.Duration
	// FetchOptions apply to the fetching level, after its name: its Capacity, its CPUs, its
	// error policy for a stage that cannot fetch (the default, StopGraph, stops the graph).
	FetchOptions []flow.Option
}

// record is an entry of the fetching level: a message and the stage that fetched it, which
// routes the message to the decoding stage of the same index.
type record struct {
	msg   natsjs.Msg
	stage int
}

// Source adds a level of n stages that consume JetStream messages, and a level of n stages
// that decode them, and returns the decoded stream. Each fetching stage reads one consumer
// (see SourceConfig.Consumers) and emits the messages in the order the consumer delivered
// them; decoding stage i reads fetching stage i only, so that order holds through it. opts
// apply to the decoding level: its error policy (OnError) is what a message that decode
// fails follows (see the package documentation for what is acknowledged). decode must not
// acknowledge the message itself.
//
// Source panics, naming what is wrong, on a nil JetStream or decode, an empty stream or
// consumer name, more consumers than stages, or a negative number in cfg.
func Source[T any](g *flow.Graph, n int, cfg SourceConfig, decode func(natsjs.Msg) (T, error), opts ...flow.Option) *flow.Stream[T] {
	if decode == nil {
		panic("jetstream: Source needs a decode function")
	}
	cfg = cfg.withDefaults(n)
	fetch := append([]flow.Option{flow.Name(cfg.Name)}, cfg.FetchOptions...)
	raw := flow.Source(g, n, func(ss *flow.SourceStage[record]) error {
		return runStage(g, ss, &cfg)
	}, fetch...)
	decoding := append([]flow.Option{flow.Name(cfg.Name + ".decode")}, opts...)
	return raw.PartitionBy(func(r record) int { return r.stage }).
		ThenErr(n, func(r record) (T, error) { return decode(r.msg) }, decoding...)
}

// withDefaults checks cfg for a source of n stages and fills in the defaults.
func (cfg SourceConfig) withDefaults(n int) SourceConfig {
	switch {
	case cfg.JetStream == nil:
		panic("jetstream: SourceConfig.JetStream is nil")
	case cfg.Stream == "":
		panic("jetstream: SourceConfig.Stream is empty")
	case len(cfg.Consumers) == 0:
		panic("jetstream: SourceConfig.Consumers is empty")
	case n >= 1 && len(cfg.Consumers) > n:
		panic(fmt.Sprintf("jetstream: %d consumers for %d stages: a consumer no stage reads", len(cfg.Consumers), n))
	case cfg.Batch < 0 || cfg.AckInterval < 0 || cfg.Timeout < 0:
		panic("jetstream: negative Batch, AckInterval or Timeout in SourceConfig")
	}
	for _, c := range cfg.Consumers {
		if c == "" {
			panic("jetstream: an empty name in SourceConfig.Consumers")
		}
	}
	cfg.Consumers = append([]string(nil), cfg.Consumers...)
	if cfg.Name == "" {
		cfg.Name = "jetstream"
	}
	if cfg.Batch == 0 {
		cfg.Batch = 256
	}
	if cfg.AckInterval == 0 {
		cfg.AckInterval = 10 * time.Millisecond
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	return cfg
}
