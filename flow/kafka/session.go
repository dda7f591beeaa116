package kafka

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/twmb/franz-go/pkg/kgo"
)

// member is the stage of Transact's consuming level: a group member whose client is a
// kgo.GroupTransactSession, and the goroutines around it.
//
//   - The transaction goroutine runs the transactions one after the other. It polls; once a
//     poll brings records it begins a transaction, hands the poll to the stage, and polls
//     and hands on until the transaction is due (Interval, MaxRecords, partitions revoked,
//     the graph stopping). Then it cuts: it waits until the graph has finished every record
//     it emitted, which counts each output produced only once the broker acknowledged it,
//     and ends the transaction: End commits the offsets of everything polled in it together
//     with the records produced, or aborts.
//   - The stage's goroutine emits each poll into its ring (onWake) and, once the graph stops,
//     waits for the transaction goroutine to end the last transaction, then leaves the group.
//   - The client's group goroutine runs the revoke and loss callbacks, which only note that
//     the transaction in hand will abort, so that it is cut short.
//
// The sink's stages produce through the session's client meanwhile, through the gate
// (transact.gate), which is open only from Begin's return to the start of End: they never
// produce while Begin or End runs, which kgo forbids, nor between transactions. What the
// records emitted in a transaction make is produced in it, since they are emitted after its
// Begin and End waits until all of them are finished; an output emitted otherwise (a
// Stateful End, a timer, a merged Input) joins the transaction open when it is produced,
// unless it is still unsent when that transaction's drain ends, and fails with
// ErrNoTransaction then and when no transaction is open.
//
// A cut that overlaps the next transaction's polling was rejected: a transaction's records
// must all be produced before End, and the next Begin must come after End, so a member can
// only poll for the next transaction (kgo forbids polling during End) and not emit; what it
// polled would wait in hand for End, which bought nothing over polling after it.
type member struct {
	tx   *transact
	ss   *flow.SourceStage[*kgo.Record]
	sess *kgo.GroupTransactSession
	wk   *waker

	handoff chan []*kgo.Record // capacity 1: a poll's records, for the stage
	taken   chan int           // capacity 1: how many of them the stage emitted

	// moved is set by the group callbacks when partitions are revoked or lost, and cleared by
	// the transaction goroutine before each End: the session aborts the End that follows
	// either, so a transaction in hand is cut short, and one not begun yet is not begun.
	moved atomic.Bool
	fatal atomic.Pointer[error] // the transaction goroutine's failure; it has returned

	txnTimeout time.Duration      // the session's transaction timeout, which bounds each drain
	cancelTxn  context.CancelFunc // cancels the open transaction's gate context; end calls it

	stop   context.CancelFunc
	done   chan struct{} // closed when the transaction goroutine has returned
	closed bool          // the stage's goroutine only
}

// newMember makes the member's session and checks that the cluster answers.
func newMember(tx *transact, ss *flow.SourceStage[*kgo.Record]) (*member, error) {
	m := &member{
		tx: tx, ss: ss,
		handoff: make(chan []*kgo.Record, 1),
		taken:   make(chan int, 1),
		done:    make(chan struct{}),
	}
	cfg := tx.cfg
	// Records go as soon as their partition may send: the cut waits for the last of them.
	opts := append([]kgo.Opt{kgo.ProducerLinger(0)}, cfg.Options...)
	opts = append(slices.Clip(opts),
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics...),
		kgo.TransactionalID(cfg.TransactionalID),
		// Records of aborted transactions upstream are not input.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RebalanceTimeout(cfg.RebalanceTimeout),
		// A record that is not acknowledged in time fails, so that its transaction ends.
		kgo.RecordDeliveryTimeout(cfg.DeliveryTimeout),
		kgo.OnPartitionsRevoked(m.revoked),
		kgo.OnPartitionsLost(m.revoked),
	)
	if cfg.Topic != "" {
		opts = append(opts, kgo.DefaultProduceTopic(cfg.Topic))
	}
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: transact session: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout)
	defer cancel()
	if err := sess.Client().Ping(ctx); err != nil {
		sess.Close()
		return nil, fmt.Errorf("kafka: no broker of %v answered within %v: %w", cfg.Brokers, cfg.DialTimeout, err)
	}
	// The producer id is loaded now rather than at the first record: loading it fences a
	// previous session of the same TransactionalID and aborts the transaction that one left
	// open, whose offsets would otherwise keep the group's from being read (they are
	// unstable) until the transaction timeout.
	if _, _, err := sess.Client().ProducerID(ctx); err != nil {
		sess.Close()
		return nil, fmt.Errorf("kafka: transactional id %q: %w", cfg.TransactionalID, err)
	}
	m.sess = sess
	m.txnTimeout, _ = sess.Client().OptValue(kgo.TransactionTimeout).(time.Duration)
	return m, nil
}

// serve runs the stage until the graph stops or the transaction goroutine fails, then
// closes, as consumer.serve does.
func (m *member) serve() error {
	loop := m.ss.Loop()
	wk, err := newWaker(loop, m.onWake)
	if err != nil {
		m.sess.Close()
		return err
	}
	m.wk = wk
	m.ss.OnStop(func() { _ = m.close() })
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	go m.transactions(ctx)
	_ = loop.Wait(context.Background(), m.ending)
	return m.close()
}

func (m *member) ending() bool {
	m.ss.Flush()
	return m.ss.Stopping() || m.fatal.Load() != nil
}

// onWake emits the poll the transaction goroutine handed over, commits it into the ring and
// says how much of it was emitted: all of it unless the graph is stopping.
func (m *member) onWake() {
	select {
	case recs := <-m.handoff:
		n := 0
		for _, r := range recs {
			if m.ss.Emit(r) != nil {
				break
			}
			n++
		}
		m.ss.Flush()
		m.taken <- n
	default:
	}
}

// revoked is the session's revoke and loss callback, run by the client under the session's
// lock. A revoke with nothing in it leaves the transaction be. The session itself marks the
// transaction failed on any revoke under an eager balancer (kgo's default balancer,
// cooperative-sticky, is cooperative), so its End may abort a transaction this callback
// did not cut short; the member then counts an abort, and the records are read again.
func (m *member) revoked(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
	if len(ps) > 0 {
		m.moved.Store(true)
	}
}

// transactions is the transaction goroutine.
func (m *member) transactions(ctx context.Context) {
	defer close(m.done)
	var emitted int64 // every record the stage emitted, on Completed's scale
	for ctx.Err() == nil {
		recs, err := m.poll(ctx, min(m.tx.cfg.MaxPollRecords, m.tx.cfg.MaxRecords))
		if err != nil {
			m.fail(err)
			return
		}
		if len(recs) == 0 {
			continue
		}
		if m.moved.Swap(false) {
			// Partitions moved since the last End, which the session would make this
			// transaction's End abort, whatever it carried. Ending now resets the session and
			// rewinds it to the committed offsets, so recs are polled again, from partitions
			// the member still owns.
			if _, err := m.end(false, 0); err != nil {
				m.fail(err)
				return
			}
			continue
		}
		if err := m.begin(); err != nil {
			m.fail(fmt.Errorf("kafka: begin transaction: %w", err))
			return
		}
		deadline := time.Now().Add(m.txnTimeout)
		polled, n, pollErr := m.fill(ctx, recs)
		emitted += int64(n)
		if !m.drain(emitted, deadline) {
			err := fmt.Errorf("kafka: transaction of %d records aborted: the graph did not finish them within the transaction timeout %v (a broker not answering, or a level stuck)", polled, m.txnTimeout)
			if _, endErr := m.end(false, polled); endErr != nil {
				err = errors.Join(err, endErr)
			}
			m.fail(err)
			return
		}
		// A count that covers an entry failed under StopGraph comes with the failure (see
		// source.mayCommit), so the graph's error is read after the drain.
		commit := pollErr == nil && n == polled && mayCommit(m.tx.g, m.tx.level)
		m.moved.Store(false)
		if _, err := m.end(commit, polled); err != nil {
			m.fail(err)
			return
		}
		if pollErr != nil {
			m.fail(pollErr)
			return
		}
	}
}

// fill emits recs, then polls and emits until the transaction is due for its cut: Interval
// after its first poll, MaxRecords polled, partitions moved, the graph stopping (the stage
// emits less than it was handed, or ctx ends), or a poll failed. It returns how many records
// it polled and how many the stage emitted.
func (m *member) fill(ctx context.Context, recs []*kgo.Record) (polled, emitted int, err error) {
	cfg := m.tx.cfg
	pctx, cancel := context.WithTimeout(ctx, cfg.Interval)
	defer cancel()
	for {
		polled += len(recs)
		n := m.emit(recs)
		emitted += n
		if n < len(recs) || polled >= cfg.MaxRecords || m.moved.Load() || pctx.Err() != nil {
			return polled, emitted, nil
		}
		if recs, err = m.poll(pctx, min(cfg.MaxPollRecords, cfg.MaxRecords-polled)); err != nil {
			return polled, emitted, err
		}
	}
}

// poll polls up to limit records. It returns none when ctx ends first, and the first fetch
// error the client does not recover from by itself (see fetchFailure).
func (m *member) poll(ctx context.Context, limit int) ([]*kgo.Record, error) {
	fs := m.sess.PollRecords(ctx, limit)
	if ctx.Err() != nil {
		return fs.Records(), nil // the error a cancelled poll carries is ctx's
	}
	if err := fetchFailure(fs); err != nil {
		return fs.Records(), fmt.Errorf("kafka: fetch: %w", err)
	}
	return fs.Records(), nil
}

// emit hands recs to the stage and returns how many it emitted. The stage answers every
// hand-over: onWake, or close once the graph stops.
func (m *member) emit(recs []*kgo.Record) int {
	if len(recs) == 0 {
		return 0
	}
	m.handoff <- recs // never blocks: the stage answered the last one
	m.wk.wake()
	return <-m.taken
}

// drain waits until the graph has finished the first target records the stage emitted, and
// reports whether it did by deadline. Completed signals nothing, so it is sampled, at growing
// intervals up to a millisecond: the wait is the cut's, on every transaction, and a finer
// sample than consumer.drain's pays for itself. The graph drains whatever happens (a failed
// entry counts as finished, and a produced record fails after DeliveryTimeout), so the
// deadline, the transaction timeout, is a backstop: past it the cluster has aborted the
// transaction anyway.
func (m *member) drain(target int64, deadline time.Time) bool {
	for wait := 20 * time.Microsecond; m.ss.Completed() < target; wait = min(2*wait, time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
	return true
}

// begin begins a transaction and opens the gate to the producing stages.
func (m *member) begin() error {
	g := &m.tx.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	if err := m.sess.Begin(); err != nil {
		return err
	}
	g.ctx, m.cancelTxn = context.WithCancel(context.Background())
	g.cl, g.open = m.sess.Client(), true
	return nil
}

// end closes the gate to the producing stages, once each has produced the batch in hand,
// then ends the transaction in hand, committing it if commit and the session allows, and
// reports a transaction of records records (none: a reset) to OnTransaction.
func (m *member) end(commit bool, records int) (bool, error) {
	g := &m.tx.gate
	if m.cancelTxn != nil {
		m.cancelTxn()
		m.cancelTxn = nil
	}
	g.mu.Lock()
	g.open = false
	g.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), m.tx.cfg.RebalanceTimeout)
	defer cancel()
	committed, err := m.sess.End(ctx, kgo.TransactionEndTry(commit))
	if err != nil {
		err = fmt.Errorf("kafka: end transaction: %w", err)
	}
	if f := m.tx.cfg.OnTransaction; f != nil && records > 0 {
		f(records, committed, err)
	}
	return committed, err
}

// fail records the transaction goroutine's failure, which ends the stage with it.
func (m *member) fail(err error) {
	m.fatal.Store(&err)
	m.wk.wake()
}

// close ends the transaction goroutine, which ends the transaction in hand, and leaves the
// group. A hand-over it meets is answered with nothing emitted, so that the transaction
// aborts: its records were polled, and would be committed, without reaching the graph. On
// the stage's goroutine, once.
func (m *member) close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	m.stop()
	for waiting := true; waiting; {
		select {
		case <-m.handoff:
			m.taken <- 0
		case <-m.done:
			waiting = false
		}
	}
	m.wk.close()
	m.ss.Flush()
	m.sess.Close()
	if err := m.fatal.Load(); err != nil {
		return *err
	}
	return nil
}
