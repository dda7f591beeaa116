package kafka

import (
	"context"
	"errors"
	"hash/maphash"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/twmb/franz-go/pkg/kgo"
)

// SourceConfig configures a Source. Brokers, Topics and Group are required; every other
// field has a default.
type SourceConfig struct {
	Brokers []string // seed brokers, host:port
	Topics  []string // the topics to consume
	Group   string   // the consumer group every stage joins

	// CommitInterval is how often each stage commits what the graph has finished
	// (default 1s). A shorter interval means fewer records read again after a crash, and
	// more commit requests.
	CommitInterval time.Duration

	// MaxPollRecords bounds how many records one poll hands to a stage (default 1024).
	// A stage takes the next poll only once it has emitted the last one into its ring.
	MaxPollRecords int

	// RebalanceTimeout is the group's rebalance timeout (default 60s): how long a member
	// may take to give up partitions. A revoked partition's records still in the graph may
	// take half of it to finish, and its commit a quarter; what is not finished by then is
	// read again by the partition's next owner. Stop gives the graph the whole of it to
	// finish what the source emitted before the final commit.
	RebalanceTimeout time.Duration

	// DialTimeout bounds the first contact with the cluster (default 10s): a stage that
	// reaches no broker within it fails with an error that names the brokers.
	DialTimeout time.Duration

	// OnCommit, when set, is called after every commit a stage attempts, with the
	// positions it carried (per topic and partition, the offset the group reads next) and
	// its error; and with no positions and an error when a revoked partition's records did
	// not finish in time. It is called on one of the consumer's goroutines and must not
	// block for long.
	OnCommit func(offsets map[string]map[int32]int64, err error)

	// Options are handed to kgo.NewClient before the connector's own (TLS, SASL, a
	// logger, fetch sizes, ConsumeResetOffset, SessionTimeout, HeartbeatInterval). The
	// connector's group options come last and win: the group, topics, balancing callbacks,
	// BlockRebalanceOnPoll and DisableAutoCommit.
	Options []kgo.Opt
}

const (
	defaultCommitInterval   = time.Second
	defaultMaxPollRecords   = 1024
	defaultRebalanceTimeout = time.Minute
	defaultDialTimeout      = 10 * time.Second
)

func (c SourceConfig) withDefaults() SourceConfig {
	if c.CommitInterval <= 0 {
		c.CommitInterval = defaultCommitInterval
	}
	if c.MaxPollRecords <= 0 {
		c.MaxPollRecords = defaultMaxPollRecords
	}
	if c.RebalanceTimeout <= 0 {
		c.RebalanceTimeout = defaultRebalanceTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = defaultDialTimeout
	}
	return c
}

func (c SourceConfig) check() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka: SourceConfig has no Brokers"))
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("kafka: SourceConfig has no Topics"))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("kafka: SourceConfig has no Group"))
	}
	return errors.Join(errs...)
}

// Source adds to g a level of n consumers of cfg.Topics, each a member of cfg.Group, and a
// level of n stages that decode their records; it returns the decoded stream. opts apply to
// the decoding level, whose error policy decides what a record decode fails on becomes.
// The consuming level is named "kafka:" and the group; its own failures (no broker within
// DialTimeout, a fetch error the client cannot retry, a failed final commit) stop the graph.
//
// Records reach the decoding level routed by partition, so each partition's records are
// decoded, and reach the levels after, in offset order. A record's offset is committed
// only once the graph has finished with it and with every record before it; see the
// package documentation.
func Source[T any](g *flow.Graph, n int, cfg SourceConfig, decode func(*kgo.Record) (T, error), opts ...flow.Option) *flow.Stream[T] {
	src := &source{cfg: cfg.withDefaults(), g: g, level: "kafka:" + cfg.Group}
	recs := flow.Source(g, n, src.run, flow.Name(src.level))
	return recs.KeyBy(partitionKey).ThenErr(n, decode, opts...)
}

// source is what the stages of one consuming level share.
type source struct {
	cfg   SourceConfig
	g     *flow.Graph
	level string // the consuming level's name
}

// run is the consuming level's function: one stage's consumer from its first poll to its
// final commit.
func (s *source) run(ss *flow.SourceStage[*kgo.Record]) error {
	if ss.Stopping() { // a Start that failed still runs its sources
		return nil
	}
	if err := s.cfg.check(); err != nil {
		return err
	}
	c, err := newConsumer(s, ss)
	if err != nil {
		return err
	}
	return c.serve()
}

// mayCommit reports whether the graph's state allows a commit: no level other than the
// consuming one has failed under StopGraph. Such a failure counts its entry finished
// (nothing stalls behind it), but the entry was not handled, so no position past it may be
// committed: after one, commits stop and the records from the last commit on are read
// again. A caller loads Completed before it asks: a failure is recorded before its entry
// counts as finished, so a count that includes the failed entry comes with the failure.
// A cancellation of Start's context is a stop, not a failure.
func (s *source) mayCommit() bool { return mayCommit(s.g, s.level) }

// mayCommit reports whether g's state allows a commit by the consuming level named level;
// see source.mayCommit.
func mayCommit(g *flow.Graph, level string) bool {
	err := g.Err()
	if err == nil || err == context.Canceled || err == context.DeadlineExceeded {
		return true
	}
	var se *flow.StageError
	return errors.As(err, &se) && se.Level == level
}

var keySeed = maphash.MakeSeed()

// partitionKey routes a record to the decoding stage of its partition.
func partitionKey(r *kgo.Record) uint64 {
	return maphash.String(keySeed, r.Topic) ^ uint64(uint32(r.Partition))
}
