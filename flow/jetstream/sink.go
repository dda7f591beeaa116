package jetstream

import (
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
)

// SinkConfig says where a sink level publishes and how long it waits. The zero values of the
// numeric fields select the defaults.
type SinkConfig struct {
	// JetStream's connection carries the publications. Each stage publishes through an
	// asynchronous publisher of its own on it (its own reply subscription, MaxPending and
	// Timeout), whatever the options of this context.
	JetStream natsjs.JetStream
	// MaxPending bounds the publications a stage has sent and not seen acknowledged. The
	// default is 256.
	MaxPending int
	// Timeout is how long a publication waits for its acknowledgement before it is sent
	// again; it also bounds the round trip by which each stage checks the connection at
	// Start. The default is 5s.
	Timeout time.Duration
	// Attempts is how many times a publication is sent before its failure becomes the
	// batch's. The default is 3.
	Attempts int
	// RetryWait is how long a stage waits, once for all the publications that failed while it
	// published a batch, before it sends them again. The default is 100ms.
	RetryWait time.Duration
}

// Sink ends a chain with a level of n stages that publish each entry, as encode makes it, to
// JetStream. A stage publishes each batch asynchronously, at most MaxPending at a time, and
// returns only when the server has acknowledged every publication of the batch, so an entry
// counts as finished (for the Completed of the sources above, and so for their
// acknowledgements) only once the server has stored it. A publication that fails or times
// out is sent again after RetryWait, up to Attempts in all; what still fails, and entries encode fails, make
// the batch fail as one error under the level's policy (opts), after the rest of the batch
// was published. A retry may store a message twice (its first acknowledgement was lost) and
// out of order: encode sets a Nats-Msg-Id header for the stream's duplicate window to drop
// the second.
//
// A stage's batch ends, and so does a Stop that drains it, within about Attempts × (Timeout
// + RetryWait) of its last publication. Each stage checks that the server answers when the
// graph starts: an unreachable server makes Start fail. Sink panics on a nil JetStream or
// encode or a negative number in cfg.
func Sink[T any](s *flow.Stream[T], n int, cfg SinkConfig, encode func(T) (*nats.Msg, error), opts ...flow.Option) {
	if encode == nil {
		panic("jetstream: Sink needs an encode function")
	}
	cfg = cfg.withDefaults()
	s.StatefulSink(n, flow.StatefulSink[T, *producer[T]]{
		Init:  func(*flow.Stage) (*producer[T], error) { return newProducer(&cfg, encode) },
		Batch: (*producer[T]).publishBatch,
		End:   (*producer[T]).close,
	}, opts...)
}

func (cfg SinkConfig) withDefaults() SinkConfig {
	switch {
	case cfg.JetStream == nil:
		panic("jetstream: SinkConfig.JetStream is nil")
	case cfg.MaxPending < 0 || cfg.Timeout < 0 || cfg.Attempts < 0 || cfg.RetryWait < 0:
		panic("jetstream: negative MaxPending, Timeout, Attempts or RetryWait in SinkConfig")
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 256
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = 3
	}
	if cfg.RetryWait == 0 {
		cfg.RetryWait = 100 * time.Millisecond
	}
	return cfg
}

// producer is one sink stage's publisher. It belongs to the stage's goroutine.
type producer[T any] struct {
	cfg    *SinkConfig
	encode func(T) (*nats.Msg, error)
	js     natsjs.JetStream
	flight []inFlight // sent and not settled, oldest first
	head   int
	again  []inFlight // failed, to be sent again after RetryWait (ack unused)
	retry  []inFlight // the round of again being sent
}

// inFlight is one publication waiting for its acknowledgement.
type inFlight struct {
	ack     natsjs.PubAckFuture
	msg     *nats.Msg
	attempt int
}

// newProducer makes a stage's publisher: a JetStream context of its own, whose async
// publisher's bound is the stage's and whose timeout resolves every future, so that a lost
// acknowledgement becomes an error to retry rather than a wait without end.
func newProducer[T any](cfg *SinkConfig, encode func(T) (*nats.Msg, error)) (*producer[T], error) {
	nc := cfg.JetStream.Conn()
	if err := nc.FlushTimeout(cfg.Timeout); err != nil {
		return nil, fmt.Errorf("jetstream: sink: the server does not answer: %w", err)
	}
	js, err := natsjs.New(nc, natsjs.WithPublishAsyncMaxPending(cfg.MaxPending), natsjs.WithPublishAsyncTimeout(cfg.Timeout))
	if err != nil {
		return nil, fmt.Errorf("jetstream: sink publisher: %w", err)
	}
	return &producer[T]{cfg: cfg, encode: encode, js: js}, nil
}

// publishBatch publishes every entry of b and waits for every acknowledgement. Failures are
// sent again in rounds: once everything in flight has settled, the stage waits RetryWait
// once and sends every failed publication again. Waiting per failure was rejected: a
// reconnection fails every publication in flight at once, and MaxPending pauses in a row
// held the stage for most of a minute.
func (p *producer[T]) publishBatch(b *flow.Batch[T]) error {
	var f failures
	for _, v := range b.All() {
		m, err := p.encode(*v)
		if err != nil {
			f.add(fmt.Errorf("encode: %w", err))
			continue
		}
		p.send(m, 1, &f)
	}
	for {
		for p.head < len(p.flight) {
			p.settleOldest(&f)
		}
		if len(p.again) == 0 {
			break
		}
		time.Sleep(p.cfg.RetryWait)
		p.retry, p.again = p.again, p.retry[:0]
		for i, r := range p.retry {
			p.retry[i] = inFlight{}
			p.send(r.msg, r.attempt+1, &f)
		}
	}
	return f.err(b.Len())
}

// send publishes m, first settling the oldest publications while MaxPending are in flight.
func (p *producer[T]) send(m *nats.Msg, attempt int, f *failures) {
	for len(p.flight)-p.head >= p.cfg.MaxPending {
		p.settleOldest(f)
	}
	ack, err := p.js.PublishMsgAsync(m)
	if err != nil {
		p.failed(m, attempt, err, f)
		return
	}
	p.flight = append(p.flight, inFlight{ack: ack, msg: m, attempt: attempt})
}

// settleOldest waits for the oldest publication's outcome. The wait ends: the publisher's
// timeout resolves every future.
func (p *producer[T]) settleOldest(f *failures) {
	o := p.flight[p.head]
	p.flight[p.head] = inFlight{}
	if p.head++; p.head == len(p.flight) {
		p.flight, p.head = p.flight[:0], 0
	}
	select {
	case <-o.ack.Ok():
	case err := <-o.ack.Err():
		p.failed(o.msg, o.attempt, err, f)
	}
}

// failed keeps m for the next round, unless it has had its attempts; then its failure is
// recorded.
func (p *producer[T]) failed(m *nats.Msg, attempt int, err error, f *failures) {
	if attempt >= p.cfg.Attempts {
		f.add(fmt.Errorf("publish to %q (%d attempts): %w", m.Subject, attempt, err))
		return
	}
	p.again = append(p.again, inFlight{msg: m, attempt: attempt})
}

// close releases the stage's reply subscription when its inputs are drained; nothing is in
// flight then, since every batch waited for its acknowledgements.
func (p *producer[T]) close() error {
	p.js.CleanupPublisher()
	return nil
}

// failures counts what a batch could not publish and keeps the first reason.
type failures struct {
	n     int
	first error
}

func (f *failures) add(err error) {
	if f.n == 0 {
		f.first = err
	}
	f.n++
}

func (f *failures) err(entries int) error {
	if f.n == 0 {
		return nil
	}
	return fmt.Errorf("jetstream: %d of %d entries not published: %w", f.n, entries, f.first)
}
