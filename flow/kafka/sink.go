package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/twmb/franz-go/pkg/kgo"
)

// SinkConfig configures a Sink. Brokers is required, and Topic unless encode names the
// topic of every record.
type SinkConfig struct {
	Brokers []string // seed brokers, host:port
	Topic   string   // the topic of records that encode leaves without one

	// Linger is how long the producer holds a partition's batch open for more records
	// (default 0: a batch goes as soon as its partition may send, and the records produced
	// while a request is in flight gather into the next). BatchMaxBytes bounds a batch of
	// one partition (default: the client's, about 1 MB).
	Linger        time.Duration
	BatchMaxBytes int32

	// MaxInFlight bounds the graph's batches a producing stage has produced and whose
	// acknowledgements are still awaited (default 64): beyond it the stage waits, and the
	// graph's backpressure reaches the levels before the sink.
	MaxInFlight int

	// DeliveryTimeout bounds how long a record may take to be acknowledged, retries
	// included (default 30s); after it the record fails. A broker that stops answering
	// thus fails records under the level's error policy instead of holding them.
	DeliveryTimeout time.Duration

	// DialTimeout bounds the first contact with the cluster (default 10s): Start fails
	// when a stage reaches no broker within it.
	DialTimeout time.Duration

	// Options are handed to kgo.NewClient before the connector's own (TLS, SASL, a logger,
	// acks, compression, a partitioner).
	Options []kgo.Opt
}

const (
	defaultMaxInFlight     = 64
	defaultDeliveryTimeout = 30 * time.Second
)

func (c SinkConfig) withDefaults() SinkConfig {
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = defaultMaxInFlight
	}
	if c.DeliveryTimeout <= 0 {
		c.DeliveryTimeout = defaultDeliveryTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = defaultDialTimeout
	}
	return c
}

// Sink ends s with n producers. An entry counts as finished, for Completed and so for a
// Source's commits, only once the broker has acknowledged its record. A record that fails
// (encode's error or panic, or the producer's error after its retries and DeliveryTimeout)
// fails under the error policy of opts: StopGraph stops the graph and, behind a Source, its
// commits; Skip and ErrorSink drop the failed records and go on. A nil record with a nil
// error produces nothing. Start fails when a producer cannot make its client or reach a
// broker within DialTimeout.
//
// Sink adds two levels. Each stage of the first has a client and produces every record of
// each batch it takes asynchronously, then emits one ticket for the batch and takes the next
// without waiting; stage i of the second (opts apply to it) takes stage i's tickets in order
// and returns from each once every record of its batch is acknowledged or failed, reporting
// the failures. The first level's entries are finished only when their ticket is, which is
// the acknowledgement; meanwhile the producer keeps up to MaxInFlight batches in flight.
// Waiting for the acknowledgements inside the producing function was rejected: it left the
// producer idle for a round trip every batch.
func Sink[T any](s *flow.Stream[T], n int, cfg SinkConfig, encode func(T) (*kgo.Record, error), opts ...flow.Option) {
	cfg = cfg.withDefaults()
	produce(s, n, cfg.MaxInFlight, func(stage int) (*producer, error) {
		return newProducer(cfg, stage)
	}, func(p *producer) {
		// Every record is acknowledged or failed before the client goes, so that the
		// tickets still in the ring end as they would have.
		_ = p.cl.Flush(context.Background())
		p.cl.Close()
	}, encode, opts...)
}

// produce adds the two producing levels of Sink and Transact: n stages that produce each
// batch through the client newProducer gives them and emit a ticket for it, and n stages
// that wait for the tickets, under opts. end runs once per producing stage, after its last
// batch.
func produce[T any](s *flow.Stream[T], n, maxInFlight int, newProducer func(stage int) (*producer, error), end func(*producer), encode func(T) (*kgo.Record, error), opts ...flow.Option) {
	tickets := s.Stateful(n, flow.Stateful[T, *producer, *ticket]{
		Init: func(st *flow.Stage, _ *flow.Emitter[*ticket]) (*producer, error) {
			return newProducer(st.Index())
		},
		Batch: func(p *producer, b *flow.Batch[T], e *flow.Emitter[*ticket]) error {
			tk := &ticket{stage: p.stage, n: b.Len()}
			ctx, cl := p.acquire()
			for _, v := range b.All() {
				r, err := encodeSafely(encode, *v)
				p.send(ctx, tk, cl, r, err)
			}
			p.release()
			e.Emit(tk)
			return nil
		},
		End: func(p *producer, _ *flow.Emitter[*ticket]) error {
			end(p)
			return nil
		},
	}, flow.Capacity(ringFor(maxInFlight)))
	tickets.PartitionBy(func(tk *ticket) int { return tk.stage }).
		SinkErr(n, (*ticket).wait, opts...)
}

// ringFor returns the ring capacity for n tickets: a power of two, at least 2.
func ringFor(n int) int {
	c := 2
	for c < n {
		c <<= 1
	}
	return c
}

// producer is one producing stage's client: its own (Sink), or the transaction session's of
// the graph's member (Transact), which it reaches through the member's gate.
type producer struct {
	cl    *kgo.Client // Sink's
	gate  *gate       // Transact's; nil for Sink
	stage int
}

// gate lets Transact's producing stages produce only while the member's transaction is open,
// never while Begin or End runs (which kgo forbids) nor between transactions. A producing
// stage holds the read side over each batch it produces; the member takes the write side to
// open the gate once Begin has returned, and to close it before End.
//
// Each transaction's records are produced under a context the member cancels once the
// transaction is drained, before it closes the gate: a record of it that is still waiting
// for buffer space or not yet sent then fails instead of holding the gate, or joining the
// transaction unacknowledged. After a drain every output of the records emitted in the
// transaction is acknowledged already; only late outputs (see ErrNoTransaction) can be
// caught so.
type gate struct {
	mu   sync.RWMutex
	cl   *kgo.Client     // the session's client, set when the gate first opens
	ctx  context.Context // the open transaction's
	open bool
}

// ErrNoTransaction fails a record that reached Transact's producing stages while no
// transaction was open: an output emitted outside the member's transactions (by a Stateful
// level's End at Stop, a timer between transactions, or from an Input merged into the body),
// which exactly-once cannot carry. It fails under the producing side's policy, StopGraph.
var ErrNoTransaction = errors.New("kafka: no transaction open to produce the output in: Transact produces only outputs emitted while a transaction is open (not from a Stateful End at Stop, a timer between transactions, or a merged Input)")

// acquire returns the client to produce the batch through, and the context to produce it
// under, or a nil client while a transactional member has no transaction open; release must
// follow, once the batch is produced.
func (p *producer) acquire() (context.Context, *kgo.Client) {
	if p.gate == nil {
		return context.Background(), p.cl
	}
	p.gate.mu.RLock()
	if !p.gate.open {
		return nil, nil
	}
	return p.gate.ctx, p.gate.cl
}

func (p *producer) release() {
	if p.gate != nil {
		p.gate.mu.RUnlock()
	}
}

func newProducer(cfg SinkConfig, stage int) (*producer, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka: SinkConfig has no Brokers")
	}
	opts := append(slices.Clone(cfg.Options),
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ProducerLinger(cfg.Linger),
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
	)
	if cfg.Topic != "" {
		opts = append(opts, kgo.DefaultProduceTopic(cfg.Topic))
	}
	if cfg.BatchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(cfg.BatchMaxBytes))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: producer: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka: no broker of %v answered within %v: %w", cfg.Brokers, cfg.DialTimeout, err)
	}
	return &producer{cl: cl, stage: stage}, nil
}

// send produces r through cl under ctx (nil: no transaction open) as part of tk's batch, or counts
// err, encode's failure. A nil record with a nil error produces nothing.
func (p *producer) send(ctx context.Context, tk *ticket, cl *kgo.Client, r *kgo.Record, err error) {
	switch {
	case err != nil:
		tk.fail(&tk.encode, fmt.Errorf("encode: %w", err))
	case r != nil:
		if cl == nil {
			tk.fail(&tk.broker, ErrNoTransaction)
			return
		}
		tk.wg.Add(1)
		cl.Produce(ctx, r, tk.promise)
	}
}

// encodeSafely calls encode, turning a panic into an error: the batch's other records are
// produced already, and their ticket must still be emitted.
func encodeSafely[T any](encode func(T) (*kgo.Record, error), v T) (r *kgo.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return encode(v)
}

// ticket is one batch of a producing stage, as the stage that waits for it sees it.
type ticket struct {
	stage int            // the producing stage
	n     int            // the batch's entries
	wg    sync.WaitGroup // its records not yet acknowledged or failed

	mu     sync.Mutex // guards the outcome, written by the client's goroutines
	failed int
	encode error // the first encoding failure
	broker error // the first production failure
}

// promise is each record's, called on a client goroutine once the broker acknowledged the
// record or it failed.
func (tk *ticket) promise(_ *kgo.Record, err error) {
	if errors.Is(err, context.Canceled) { // only a transaction's context is ever cancelled
		err = fmt.Errorf("%w (the output was still unsent when its transaction ended): %w", ErrNoTransaction, err)
	}
	if err != nil {
		tk.fail(&tk.broker, err)
	}
	tk.wg.Done()
}

func (tk *ticket) fail(first *error, err error) {
	tk.mu.Lock()
	tk.failed++
	if *first == nil {
		*first = err
	}
	tk.mu.Unlock()
}

// wait waits until every record of the batch is acknowledged or failed, and returns an error
// that counts the failed records and wraps the first failure of each kind.
func (tk *ticket) wait() error {
	tk.wg.Wait()
	tk.mu.Lock()
	defer tk.mu.Unlock()
	if tk.failed > 0 {
		return fmt.Errorf("kafka: %d of %d records not produced: %w", tk.failed, tk.n, errors.Join(tk.encode, tk.broker))
	}
	return nil
}
