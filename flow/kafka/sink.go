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
	// (default 0: a batch goes as soon as the partition may send; records produced while a
	// request is in flight gather into the next batch). A stage waits for its batch's
	// acknowledgements before it takes the next, so a linger delays every flow batch that
	// does not fill a producer batch.
	Linger time.Duration

	// BatchMaxBytes bounds a producer batch of one partition (default: kgo's, 1 MB less
	// overhead).
	BatchMaxBytes int32

	// DeliveryTimeout bounds how long a record may take to be acknowledged, retries
	// included (default 30s); after it the record fails. A broker that stops answering
	// thus fails the stage's batch under the level's error policy instead of holding it.
	DeliveryTimeout time.Duration

	// DialTimeout bounds the first contact with the cluster (default 10s): Start fails
	// when a stage reaches no broker within it.
	DialTimeout time.Duration

	// Options are handed to kgo.NewClient before the connector's own (TLS, SASL, a logger,
	// acks, compression, a partitioner).
	Options []kgo.Opt
}

const defaultDeliveryTimeout = 30 * time.Second

func (c SinkConfig) withDefaults() SinkConfig {
	if c.DeliveryTimeout <= 0 {
		c.DeliveryTimeout = defaultDeliveryTimeout
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = defaultDialTimeout
	}
	return c
}

// Sink ends s with a level of n producers: each stage encodes every entry it receives into
// a record and produces it, and an entry counts as done only once the broker has
// acknowledged its record. A record that fails (encode's error, or the producer's after its
// retries) fails the stage's batch under the level's error policy (opts): StopGraph stops
// the graph and, behind a Source, its commits; Skip and ErrorSink drop the failed records
// and go on. Start fails when a stage cannot make its client or reach a broker.
//
// Each stage produces its whole batch asynchronously, then waits for every record's
// acknowledgement before it returns: a flow sink counts an entry done when its function
// returns, and Completed, which a Source commits by, must not count a record the broker may
// still lose. The wait is one round trip per batch, paid while the stage's ring fills, so
// the next batch is larger: under load a batch grows until one round trip carries it.
func Sink[T any](s *flow.Stream[T], n int, cfg SinkConfig, encode func(T) (*kgo.Record, error), opts ...flow.Option) {
	cfg = cfg.withDefaults()
	s.StatefulSink(n, flow.StatefulSink[T, *producer]{
		Init: func(*flow.Stage) (*producer, error) { return newProducer(cfg) },
		Batch: func(p *producer, b *flow.Batch[T]) error {
			// The wait is deferred too, so that a panicking encode leaves no promise
			// outstanding when flow reports it.
			defer p.wg.Wait()
			p.begin()
			for _, v := range b.All() {
				p.send(encode(*v))
			}
			return p.end(b.Len())
		},
		End: func(p *producer) error {
			p.cl.Close()
			return nil
		},
	}, opts...)
}

// producer is one sink stage's client and the outcome of its batch in flight.
type producer struct {
	cl *kgo.Client

	wg     sync.WaitGroup // the batch's records not yet acknowledged
	mu     sync.Mutex     // guards the outcome below, written by the client's goroutines
	failed int
	encode error // the batch's first encoding error
	broker error // the batch's first production error
}

func newProducer(cfg SinkConfig) (*producer, error) {
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
	return &producer{cl: cl}, nil
}

// begin starts a batch.
func (p *producer) begin() { p.failed, p.encode, p.broker = 0, nil, nil }

// send produces r, or counts err. A nil record with a nil error produces nothing.
func (p *producer) send(r *kgo.Record, err error) {
	switch {
	case err != nil:
		p.mu.Lock()
		p.failed++
		if p.encode == nil {
			p.encode = fmt.Errorf("encode: %w", err)
		}
		p.mu.Unlock()
	case r != nil:
		p.wg.Add(1)
		p.cl.Produce(context.Background(), r, p.promise)
	}
}

// end waits until the broker has acknowledged or failed every record of the batch of n
// entries, and returns an error that counts the failed records and wraps the first failure
// of each kind, encoding and production.
func (p *producer) end(n int) error {
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed > 0 {
		return fmt.Errorf("kafka: %d of %d records not produced: %w", p.failed, n, errors.Join(p.encode, p.broker))
	}
	return nil
}

// promise is every record's: it runs on a client goroutine once the broker acknowledged the
// record or it failed.
func (p *producer) promise(_ *kgo.Record, err error) {
	if err != nil {
		p.mu.Lock()
		p.failed++
		if p.broker == nil {
			p.broker = err
		}
		p.mu.Unlock()
	}
	p.wg.Done()
}
