package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumer is one stage of the consuming level: a group member and the goroutines around
// it.
//
//   - The stage's goroutine emits each poll's records into the stage's ring (onWake) and,
//     once the graph stops, makes the final commit (close).
//   - The poll goroutine polls the client and hands each poll to the stage, then waits
//     until the stage has emitted it before it allows a rebalance and polls again. A stage
//     whose ring is full blocks in Emit, so its poll goroutine stops polling, and the client
//     stops fetching once its buffers hold a fetch per broker: the backpressure reaches the
//     fetch, and nothing is buffered beyond one poll.
//   - The committer goroutine commits what is finished every CommitInterval. Commits block on
//     the network, and during a rebalance on the group, so they stay off the stage's loop.
//   - The client's group goroutine runs the rebalance callbacks: assigned, revoked, lost.
//
// The tracker (its own lock) is what they share; commitMu makes commits one at a time.
type consumer struct {
	s  *source
	ss *flow.SourceStage[*kgo.Record]
	cl *kgo.Client
	t  *tracker
	wk *waker

	handoff  chan []*kgo.Record // capacity 1: a poll's records, for the stage
	taken    chan struct{}      // capacity 1: the stage has emitted them
	fetchErr atomic.Pointer[error]

	// commitMu orders commits: a commit collects its positions and sends them under it, so
	// that no commit collected before a revoke lands after the revoke's own.
	commitMu sync.Mutex

	stopPoll      context.CancelFunc
	polled        chan struct{} // closed when the poll goroutine has returned
	stopCommitter chan struct{}
	committerDone chan struct{}
	closed        bool // the stage's goroutine only
}

// newConsumer makes stage ss's client and checks that the cluster answers.
func newConsumer(s *source, ss *flow.SourceStage[*kgo.Record]) (*consumer, error) {
	c := &consumer{
		s: s, ss: ss, t: newTracker(),
		handoff:       make(chan []*kgo.Record, 1),
		taken:         make(chan struct{}, 1),
		polled:        make(chan struct{}),
		stopCommitter: make(chan struct{}),
		committerDone: make(chan struct{}),
	}
	opts := append(slices.Clone(s.cfg.Options),
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.ConsumeTopics(s.cfg.Topics...),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.RebalanceTimeout(s.cfg.RebalanceTimeout),
		kgo.OnPartitionsAssigned(c.assigned),
		kgo.OnPartitionsRevoked(c.revoked),
		kgo.OnPartitionsLost(c.lost),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: consumer: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.DialTimeout)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka: no broker of %v answered within %v: %w", s.cfg.Brokers, s.cfg.DialTimeout, err)
	}
	c.cl = cl
	return c, nil
}

// serve runs the stage until the graph stops or the fetch fails, then closes. It serves the
// stage's loop itself rather than returning to flow's, so that the final commit's error is
// the source function's, and reaches the graph.
func (c *consumer) serve() error {
	loop := c.ss.Loop()
	wk, err := newWaker(loop, c.onWake)
	if err != nil {
		c.cl.Close()
		return err
	}
	c.wk = wk
	// Should a callback of the loop panic, flow goes on serving the loop without this
	// function; OnStop then closes.
	c.ss.OnStop(func() { _ = c.close() })
	ctx, cancel := context.WithCancel(context.Background())
	c.stopPoll = cancel
	go c.poll(ctx)
	go c.commitEvery(c.s.cfg.CommitInterval)
	_ = loop.Wait(context.Background(), c.ending)
	return c.close()
}

// ending is the condition the stage's loop waits for; it commits what the stage emitted,
// as flow's own source loop does between rounds of callbacks.
func (c *consumer) ending() bool {
	c.ss.Flush()
	return c.ss.Stopping() || c.fetchErr.Load() != nil
}

// poll is the poll goroutine.
func (c *consumer) poll(ctx context.Context) {
	defer close(c.polled)
	defer c.cl.AllowRebalance()
	for {
		fs := c.cl.PollRecords(ctx, c.s.cfg.MaxPollRecords)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		if err := fetchFailure(fs); err != nil {
			err = fmt.Errorf("kafka: fetch: %w", err)
			c.fetchErr.Store(&err)
			c.wk.wake()
			return
		}
		if recs := fs.Records(); len(recs) > 0 {
			c.handoff <- recs // never blocks: the stage took the last poll
			c.wk.wake()
			select {
			case <-c.taken:
			case <-ctx.Done():
				return
			}
		}
		c.cl.AllowRebalance()
	}
}

// fetchFailure returns the first error of fs that the client does not recover from by
// itself. Two kinds it does: ErrDataLoss (the broker lost records; the client goes on from
// what there is) and ErrGroupSession (the member was dropped from the group, its
// partitions went through OnPartitionsLost, and the client joins again). Both reach the
// client's logger, which Options may set.
func fetchFailure(fs kgo.Fetches) error {
	for _, fe := range fs.Errors() {
		var loss *kgo.ErrDataLoss
		var session *kgo.ErrGroupSession
		if errors.As(fe.Err, &loss) || errors.As(fe.Err, &session) {
			continue
		}
		if fe.Topic == "" {
			return fe.Err
		}
		return fmt.Errorf("%s/%d: %w", fe.Topic, fe.Partition, fe.Err)
	}
	return nil
}

// onWake runs on the stage's goroutine when the poll goroutine has handed it a poll (or
// failed). Emit blocks while the ring is full, which holds the poll goroutine back.
func (c *consumer) onWake() {
	select {
	case recs := <-c.handoff:
		c.t.emit(recs, c.ss.Emit)
		c.taken <- struct{}{}
	default:
	}
}

// commitEvery is the committer goroutine.
func (c *consumer) commitEvery(every time.Duration) {
	defer close(c.committerDone)
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-c.stopCommitter:
			return
		case <-tick.C:
			// A failed commit is tried again at the next tick: positions only move on.
			_ = c.commitFinished(nil, nil)
		}
	}
}

// assigned, revoked and lost are the group callbacks. Under BlockRebalanceOnPoll they run
// only while the poll goroutine allows rebalances, that is between two polls, once the stage
// has emitted the last one; kgo then returns no record of a revoked partition.
func (c *consumer) assigned(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
	c.t.assign(assigned)
}

// revoked stops taking the partitions, waits (for at most half the rebalance timeout) until
// the graph has finished every record the stage emitted from them, and commits them: their
// next owner starts where this stage's work ends. It may be called with nothing to revoke.
func (c *consumer) revoked(_ context.Context, _ *kgo.Client, revoked map[string][]int32) {
	ps, target := c.t.revoke(revoked)
	if len(ps) == 0 {
		return
	}
	note := c.drain(target, c.s.cfg.RebalanceTimeout/2)
	_ = c.commitFinished(ps, note) // reported through OnCommit; a failure means duplicates
}

func (c *consumer) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	c.t.lost(lost)
}

// drain waits until the graph has finished every record below emission index target, for
// at most limit, or until no commit may be made. Completed is computed on demand and
// signals nothing, so it is sampled, at growing intervals up to 5ms: a drain covers what is
// in flight, which takes a graph far longer than a sample.
func (c *consumer) drain(target int64, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 5*time.Millisecond) {
		done := c.ss.Completed()
		if done >= target || !c.s.mayCommit() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka: %d records still in the graph after %v; committed what was finished", target-done, limit)
		}
		time.Sleep(wait)
	}
}

// commitFinished commits the finished positions of ps (nil: of every partition the stage
// owns) where they are ahead of the last commit, and reports the commit, with note, to
// OnCommit. Completed is loaded before the graph's error (see mayCommit).
func (c *consumer) commitFinished(ps []*partition, note error) error {
	c.commitMu.Lock()
	defer c.commitMu.Unlock()
	done := c.ss.Completed()
	if !c.s.mayCommit() {
		return nil
	}
	cm := c.t.collect(done, ps)
	if len(cm.parts) == 0 {
		if f := c.s.cfg.OnCommit; f != nil && note != nil {
			f(nil, note)
		}
		return note
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.s.cfg.RebalanceTimeout/4)
	defer cancel()
	var err error
	c.cl.CommitOffsetsSync(ctx, cm.offsets(), func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, rerr error) {
		failed := map[topicPartition]bool{}
		err = rerr
		if rerr == nil {
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil {
						failed[topicPartition{t.Topic, p.Partition}] = true
						err = fmt.Errorf("partition %s/%d: %w", t.Topic, p.Partition, perr)
					}
				}
			}
		}
		c.t.acked(cm, func(topic string, part int32) bool {
			return rerr == nil && !failed[topicPartition{topic, part}]
		})
	})
	if err != nil {
		err = fmt.Errorf("kafka: commit: %w", err)
	}
	err = errors.Join(note, err)
	if f := c.s.cfg.OnCommit; f != nil {
		f(cm.plain(), err)
	}
	return err
}

// close stops polling and committing, waits until the graph has finished what the stage
// emitted, commits it and leaves the group. On the stage's goroutine, once.
func (c *consumer) close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.stopPoll()
	<-c.polled
	close(c.stopCommitter)
	<-c.committerDone
	c.wk.close()
	c.ss.Flush()
	var errs []error
	if err := c.fetchErr.Load(); err != nil {
		errs = append(errs, *err)
	}
	// The partitions stay the stage's until the leave: a rebalance meanwhile revokes them
	// as it would have, drained and committed, rather than handing them on while the final
	// commit is still to come. The leave's own revoke then finds nothing new to commit.
	if c.s.mayCommit() {
		note := c.drain(c.t.emittedCount(), c.s.cfg.RebalanceTimeout)
		if err := c.commitFinished(nil, note); err != nil {
			errs = append(errs, fmt.Errorf("kafka: final commit: %w", err))
		}
	}
	c.cl.Close()
	return errors.Join(errs...)
}
