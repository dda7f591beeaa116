package kafka

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TransactConfig configures Transact. Brokers, Topics, Group and TransactionalID are
// required, and Topic unless encode names the topic of every record; every other field has a
// default.
type TransactConfig struct {
	Brokers []string // seed brokers, host:port
	Topics  []string // the topics to consume
	Group   string   // the consumer group the graph joins, as one member

	// TransactionalID is the member's transactional id. It must differ from that of every
	// other running member, and a member that restarts should take the id it had: its new
	// session then fences the old one, aborting the transaction the old one left open,
	// instead of leaving it to the transaction timeout.
	TransactionalID string

	Topic string // the topic of records that encode leaves without one

	// Interval is how long a transaction takes records before its cut (default 100ms), and
	// MaxRecords how many it takes at most (default 10000). A transaction costs a drain of
	// the graph and three round trips to the cluster, whatever its size: a longer interval
	// costs them less often, and holds the output back longer from read_committed readers.
	// Interval must be shorter than the transaction timeout (kgo.TransactionTimeout in
	// Options, 40s by default), after which the cluster aborts a transaction still open.
	Interval   time.Duration
	MaxRecords int

	// MaxPollRecords bounds how many records one poll hands to the graph (default 1024).
	MaxPollRecords int

	// MaxInFlight bounds each producing stage's batches whose acknowledgements are awaited
	// (default 64), as SinkConfig's does.
	MaxInFlight int

	// DeliveryTimeout bounds how long a produced record may take to be acknowledged,
	// retries included (default 30s, or the transaction timeout if shorter), as SinkConfig's
	// does: after it the record fails, which stops the graph and aborts the transaction. It
	// must be at most the transaction timeout. Without it a broker that stops answering
	// would hold the records, and the transaction, forever.
	DeliveryTimeout time.Duration

	// RebalanceTimeout is the group's rebalance timeout (default 60s). It also bounds the
	// end of each transaction (flushing its records, committing its offsets and ending it).
	//
	// The bounds of one transaction, in order: it takes records for Interval (or until
	// MaxRecords), then the cut waits for the graph to finish them (the drain), then End
	// runs. The drain is bounded by the transaction timeout, counted from Begin: a
	// transaction open that long is aborted by the cluster anyway, so a drain that reaches
	// it aborts the transaction and fails the member (Stop and Wait return the error). End
	// is bounded by RebalanceTimeout. A record produced in the transaction is acknowledged
	// or failed within DeliveryTimeout. Start rejects an Interval or a DeliveryTimeout that
	// is not below, respectively at most, the transaction timeout.
	RebalanceTimeout time.Duration

	// DialTimeout bounds the first contact with the cluster (default 10s).
	DialTimeout time.Duration

	// OnTransaction, when set, is called after every transaction the member ends, with how
	// many records it took, whether it committed, and End's error. A transaction that did
	// not commit without an error was aborted (a rebalance, a failure under StopGraph,
	// Stop while records were in hand): its records are read again. It is called on the
	// member's transaction goroutine and must not block for long.
	OnTransaction func(records int, committed bool, err error)

	// Options are handed to kgo.NewGroupTransactSession after kgo.ProducerLinger(0) and
	// before the connector's own (TLS, SASL, a logger, TransactionTimeout, SessionTimeout,
	// HeartbeatInterval, ConsumeResetOffset, a linger). The connector's options come last
	// and win: the seed brokers, group, topics, transactional id, read_committed fetches,
	// the revoke and loss callbacks (the session wraps them), the rebalance timeout, the
	// record delivery timeout and the default produce topic (when Topic is set). Start
	// rejects kgo.BlockRebalanceOnPoll, which would block every rebalance: the member never
	// calls AllowRebalance. Options that change what the member relies on are not
	// supported: manual flushing (kgo.ManualFlushing), consuming partitions directly
	// (kgo.ConsumePartitions), or a balancer list that misbehaves; kgo.TransactionTimeout
	// is read from them and bounds Interval, DeliveryTimeout and each drain.
	Options []kgo.Opt
}

const (
	defaultInterval   = 100 * time.Millisecond
	defaultMaxRecords = 10000
)

func (c TransactConfig) withDefaults() TransactConfig {
	if c.Interval <= 0 {
		c.Interval = defaultInterval
	}
	if c.MaxRecords <= 0 {
		c.MaxRecords = defaultMaxRecords
	}
	if c.MaxPollRecords <= 0 {
		c.MaxPollRecords = defaultMaxPollRecords
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = defaultMaxInFlight
	}
	if c.RebalanceTimeout <= 0 {
		c.RebalanceTimeout = defaultRebalanceTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = defaultDialTimeout
	}
	return c
}

// check reports what is missing or inconsistent in c, which has its defaults but
// DeliveryTimeout's, which it sets: the default, or the transaction timeout if shorter.
func (c *TransactConfig) check() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("kafka: TransactConfig has no Brokers"))
	}
	if len(c.Topics) == 0 {
		errs = append(errs, errors.New("kafka: TransactConfig has no Topics"))
	}
	if c.Group == "" {
		errs = append(errs, errors.New("kafka: TransactConfig has no Group"))
	}
	if c.TransactionalID == "" {
		errs = append(errs, errors.New("kafka: TransactConfig has no TransactionalID"))
	}
	if timeout, err := checkOptions(c.Options); err != nil {
		errs = append(errs, err)
	} else {
		if c.DeliveryTimeout <= 0 {
			c.DeliveryTimeout = min(defaultDeliveryTimeout, timeout)
		}
		if c.Interval >= timeout {
			errs = append(errs, fmt.Errorf("kafka: TransactConfig's Interval %v is not below the transaction timeout %v", c.Interval, timeout))
		}
		if c.DeliveryTimeout > timeout {
			errs = append(errs, fmt.Errorf("kafka: TransactConfig's DeliveryTimeout %v exceeds the transaction timeout %v", c.DeliveryTimeout, timeout))
		}
	}
	return errors.Join(errs...)
}

// checkOptions returns the transaction timeout opts set (kgo's default when they set none),
// as a client made with them reads it, and fails on an option the member cannot run under:
// kgo.BlockRebalanceOnPoll, which would block every rebalance, since the member never
// allows one. The client dials nothing.
func checkOptions(opts []kgo.Opt) (time.Duration, error) {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("kafka: TransactConfig's Options: %w", err)
	}
	defer cl.Close()
	if block, _ := cl.OptValue(kgo.BlockRebalanceOnPoll).(bool); block {
		return 0, errors.New("kafka: TransactConfig's Options: kgo.BlockRebalanceOnPoll is not supported (the member never allows a rebalance; revokes cut the transaction short instead)")
	}
	d, _ := cl.OptValue(kgo.TransactionTimeout).(time.Duration)
	return d, nil
}

// Transact adds to g a consume, transform and produce pipeline that runs exactly once for
// readers of its output that read committed records: a member of cfg.Group that consumes
// cfg.Topics, a level of n stages that decode its records (opts apply to it, as to
// Source's), the levels body adds to the decoded stream, and n producing stages that
// encode body's output and produce it, as Sink's do, through the member's transaction
// session. The input offsets of each transaction commit in the transaction that carries
// the records produced from them, so a record's output becomes visible, once, exactly when
// its offset commits; see the package documentation.
//
// The graph is one member of the group, with one session: the records produced from a
// transaction's input must be produced in that transaction, and entries do not carry,
// through body's levels, which member they came from. Scale out by running more graphs in
// the group, each with its own TransactionalID, and within a graph by body's widths.
//
// An output body emits other than from the entries it is given as they go (a timer, a
// Stateful End, a merged Input) is late: see the package documentation; produced while no
// transaction is open it fails with ErrNoTransaction and stops the graph.
//
// Start fails on a configuration without Brokers, Topics, Group or TransactionalID, or whose
// Interval or DeliveryTimeout does not fit in the transaction timeout, naming each fault
// once. An
// entry that fails to encode or to be produced stops the graph (the producing side runs
// under StopGraph) and aborts its transaction. body must build its levels on the stream it
// is given, and return a stream of them; Transact panics if body is nil.
func Transact[In, Out any](g *flow.Graph, n int, cfg TransactConfig, decode func(*kgo.Record) (In, error), body func(*flow.Stream[In]) *flow.Stream[Out], encode func(Out) (*kgo.Record, error), opts ...flow.Option) {
	if body == nil {
		panic("kafka: Transact needs a body")
	}
	tx := &transact{cfg: cfg.withDefaults(), g: g, level: "kafka:" + cfg.Group}
	recs := flow.Source(g, 1, tx.run, flow.Name(tx.level))
	out := body(recs.KeyBy(partitionKey).ThenErr(n, decode, opts...))
	produce(out, n, tx.cfg.MaxInFlight, tx.newProducer, func(*producer) {}, encode)
}

// transact is what the member and the producing stages of one Transact share.
type transact struct {
	cfg   TransactConfig
	g     *flow.Graph
	level string // the member's level

	checkOnce sync.Once
	checkErr  error // cfg.check's, once

	gate gate // opened and closed by the member around each transaction
}

// check checks the configuration once.
func (tx *transact) check() error {
	tx.checkOnce.Do(func() { tx.checkErr = tx.cfg.check() })
	return tx.checkErr
}

// newProducer is the producing stages' Init: the first stage's checks the configuration, so
// that Start reports a bad one once, and each gives its stage the member's session, when
// there is one.
func (tx *transact) newProducer(stage int) (*producer, error) {
	if stage == 0 {
		if err := tx.check(); err != nil {
			return nil, err
		}
	}
	return &producer{gate: &tx.gate, stage: stage}, nil
}

// run is the member's source function.
func (tx *transact) run(ss *flow.SourceStage[*kgo.Record]) error {
	if ss.Stopping() { // a Start that failed still runs its sources
		return nil
	}
	if err := tx.check(); err != nil {
		return err
	}
	m, err := newMember(tx, ss)
	if err != nil {
		return err
	}
	return m.serve()
}
