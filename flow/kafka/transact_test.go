package kafka_test

// Exactly once: a Transact graph's read_committed output holds every input record's outputs
// once, whatever stopped, crashed or joined, and the group commits the end of the input.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// expandBit marks the second output of an input the body expands.
const expandBit = 1 << 40

// outputsOf is what the test body makes of input id: nothing (id%10 == 3, filtered out),
// two outputs (id%10 == 7, expanded), or id itself.
func outputsOf(id uint64) []uint64 {
	switch id % 10 {
	case 3:
		return nil
	case 7:
		return []uint64{id, id | expandBit}
	}
	return []uint64{id}
}

// txConfig is a test member's configuration: short transactions, a short heartbeat and
// session, so that rebalances happen within a test's time.
func (c *cluster) txConfig(txid string) kafka.TransactConfig {
	return kafka.TransactConfig{
		Brokers:          c.addrs,
		Topics:           []string{"in"},
		Group:            "g",
		TransactionalID:  txid,
		Topic:            "out",
		Interval:         20 * time.Millisecond,
		MaxRecords:       1000,
		MaxPollRecords:   256,
		RebalanceTimeout: 30 * time.Second,
		DialTimeout:      waitLimit,
		Options:          groupTestOptions(),
	}
}

// txMember is one Transact graph, with what it handled and how its transactions ended.
type txMember struct {
	g         *flow.Graph
	handled   atomic.Int64
	commits   atomic.Int64 // transactions committed
	committed atomic.Int64 // input records they carried
	aborts    atomic.Int64 // transactions aborted, or failed at End
	largest   atomic.Int64 // the most records a transaction took
}

// newTxMember builds, without starting, Transact with a body of two levels: one keyed by
// id that calls hook (if any) on every record, whose error fails the record under
// StopGraph, and one that filters and expands as outputsOf says.
func newTxMember(cfg kafka.TransactConfig, hook func(m *txMember, v in) error) *txMember {
	m := &txMember{g: flow.New()}
	cfg.OnTransaction = func(records int, committed bool, _ error) {
		if int64(records) > m.largest.Load() { // one goroutine calls OnTransaction
			m.largest.Store(int64(records))
		}
		if committed {
			m.commits.Add(1)
			m.committed.Add(int64(records))
		} else {
			m.aborts.Add(1)
		}
	}
	body := func(s *flow.Stream[in]) *flow.Stream[uint64] {
		return s.KeyBy(func(v in) uint64 { return v.id }).
			ThenErr(2, func(v in) (in, error) {
				m.handled.Add(1)
				if hook != nil {
					if err := hook(m, v); err != nil {
						return in{}, err
					}
				}
				return v, nil
			}, flow.Name("handle")).
			Expand(2, func(v in, e *flow.Emitter[uint64]) {
				for _, id := range outputsOf(v.id) {
					e.Emit(id)
				}
			})
	}
	kafka.Transact(m.g, 2, cfg, decodeIn, body, encodeID)
	return m
}

func (m *txMember) String() string {
	return fmt.Sprintf("%d handled, %d transactions committed (%d records), %d aborted",
		m.handled.Load(), m.commits.Load(), m.committed.Load(), m.aborts.Load())
}

// readCommitted waits until no transaction is open on topic, then reads it to its end as a
// read_committed consumer does, and returns how often each value was read, and how many
// records of aborted transactions the topic holds. Control records are kept, so that the
// read knows it reached each partition's end (a partition's last record may be one).
func (c *cluster) readCommitted(topic string) (got map[uint64]int, aborted int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	var ends map[int32]int64
	waitFor(c.t, "no transaction open on "+topic, func() bool {
		ends = c.ends(topic)
		l, err := c.adm.ListCommittedOffsets(ctx, topic)
		if err == nil {
			err = l.Error()
		}
		if err != nil {
			c.t.Fatalf("stable offsets of %s: %v", topic, err)
		}
		stable := true
		l.Each(func(o kadm.ListedOffset) { stable = stable && o.Offset == ends[o.Partition] })
		return stable
	})
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		c.t.Fatalf("reader: %v", err)
	}
	defer rd.Close()
	got = map[uint64]int{}
	next := map[int32]int64{}
	total, read := int64(0), int64(0) // records in the log; data and control records read
	for _, e := range ends {
		total += e
	}
	done := func() bool {
		for p, e := range ends {
			if next[p] < e {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := rd.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			c.t.Fatalf("read %s: %v", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = r.Offset + 1
			read++
			if !r.Attrs.IsControl() {
				got[binary.BigEndian.Uint64(r.Value)]++
			}
		})
	}
	return got, int(total - read)
}

// checkExactlyOnce fails the test unless topic's read_committed output holds the outputs of
// the first n ids exactly once each, and nothing else. It returns the records of aborted
// transactions the topic holds.
func checkExactlyOnce(t *testing.T, c *cluster, topic string, n int) (aborted int) {
	t.Helper()
	got, aborted := c.readCommitted(topic)
	want := map[uint64]int{}
	for id := range uint64(n) {
		for _, o := range outputsOf(id) {
			want[o]++
		}
	}
	dup, lost, extra := 0, 0, 0
	for v, k := range got {
		switch {
		case want[v] == 0:
			extra += k
		case k > 1:
			dup += k - 1
		}
	}
	for v := range want {
		if got[v] == 0 {
			lost++
		}
	}
	if dup != 0 || lost != 0 || extra != 0 {
		t.Errorf("read_committed output of %d inputs (%d outputs): %d duplicates, %d lost, %d unexpected", n, len(want), dup, lost, extra)
	}
	return aborted
}

// waitGroupAtEnd waits until group g has committed the end of every partition of in; unlike
// waitCommittedAtEnd, it waits for the group to exist, which a member makes only once it
// commits its first transaction.
func waitGroupAtEnd(t *testing.T, c *cluster) {
	t.Helper()
	ends := c.ends("in")
	waitFor(t, "the group to commit the end", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		os, err := c.adm.FetchOffsets(ctx, "g")
		if err == nil {
			err = os.Error()
		}
		if errors.Is(err, kerr.GroupIDNotFound) {
			return false
		}
		if err != nil {
			t.Fatalf("committed offsets of g: %v", err)
		}
		for p, end := range ends {
			if o, ok := os.Lookup("in", p); end > 0 && (!ok || o.At != end) {
				return false
			}
		}
		return true
	})
}

// TestTransactDeliversEachOutputOnce runs a stream through a Transact graph whose body
// filters and expands: the read_committed output is every expected output once, the group
// commits the end of the input, no transaction aborted, and none took more than MaxRecords
// records (the first poll of a transaction once took MaxPollRecords whatever MaxRecords
// said; MaxRecords is below it here).
func TestTransactDeliversEachOutputOnce(t *testing.T) {
	n := scale(20000, 5000)
	c := newCluster(t, 8, "in", "out")
	c.produce("in", n, 100)
	cfg := c.txConfig("a")
	cfg.MaxRecords = 200
	m := newTxMember(cfg, nil)
	start(t, m.g)
	waitGroupAtEnd(t, c)
	stop(t, m.g)
	aborted := checkExactlyOnce(t, c, "out", n)
	t.Logf("%d records: %v; %d aborted records in the output", n, m, aborted)
	if m.aborts.Load() != 0 || aborted != 0 {
		t.Errorf("%d transactions aborted, %d aborted records in the output; want none without a failure or a rebalance", m.aborts.Load(), aborted)
	}
	if m.committed.Load() != int64(n) {
		t.Errorf("committed transactions carried %d records; want %d", m.committed.Load(), n)
	}
	if l := m.largest.Load(); l > int64(cfg.MaxRecords) {
		t.Errorf("a transaction took %d records; MaxRecords is %d", l, cfg.MaxRecords)
	}
}

// TestTransactCrashLeavesNoDuplicates ends a first graph halfway through in four ways, then
// runs a second graph in the group to the end: the read_committed output has every expected
// output exactly once (duplicates and losses are counted, and must be 0), and the group
// commits the end of the input. The first graph's transaction in hand aborts, or is left
// open and aborted by the cluster: its records are in the output topic, unread.
//
//   - failure: the body fails a record under StopGraph, and the member aborts;
//   - stop: Stop, which ends the transaction in hand (commits it if the graph emitted all
//     its records, aborts it otherwise);
//   - killed, restarted: the member's EndTxn after its offsets were sent in the transaction
//     never reaches the coordinator (it answers as if the producer were fenced, and the
//     member stops), and the second graph takes the same TransactionalID, whose session
//     aborts what the first left open;
//   - killed, replaced: as above, but the second graph has another TransactionalID, so the
//     open transaction holds the group's offsets unstable until its timeout aborts it.
func TestTransactCrashLeavesNoDuplicates(t *testing.T) {
	errCrash := errors.New("crash")
	for _, tc := range []struct {
		name    string
		second  string        // the second graph's TransactionalID
		kill    bool          // kill the first member at an EndTxn
		fail    bool          // fail a record at the half
		timeout time.Duration // the first member's transaction timeout
	}{
		{name: "failure", second: "a", fail: true},
		{name: "stop", second: "a"},
		// Longer than waitLimit: only the fencing by the second session can end the
		// transaction in time.
		{name: "killed, restarted", second: "a", kill: true, timeout: 2 * waitLimit},
		{name: "killed, replaced", second: "b", kill: true, timeout: 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := scale(20000, 5000)
			c := newCluster(t, 8, "in", "out")
			c.produce("in", n, 100)
			cfg := c.txConfig("a")
			if tc.timeout > 0 {
				// A killed member's open transaction holds the group's offsets unstable
				// until it times out or a session of its TransactionalID fences it.
				cfg.Options = append(cfg.Options, kgo.TransactionTimeout(tc.timeout))
			}
			var half func(m *txMember, v in) error
			if tc.fail {
				half = func(m *txMember, v in) error {
					if m.handled.Load() == int64(n/2) {
						return errCrash
					}
					return nil
				}
			}
			first := newTxMember(cfg, half)
			var killed atomic.Bool
			if tc.kill {
				c.fake.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
					r := req.(*kmsg.EndTxnRequest)
					if r.TransactionalID != "a" || !r.Commit || first.handled.Load() < int64(n/2) {
						return nil, nil, false // kept, and handled as usual
					}
					killed.Store(true)
					resp := r.ResponseKind().(*kmsg.EndTxnResponse)
					resp.ErrorCode = kerr.ProducerFenced.Code
					return resp, nil, true
				})
			}
			start(t, first.g)
			switch {
			case tc.fail:
				if err := waitErr(t, first.g); !errors.Is(err, errCrash) {
					t.Fatalf("first graph: %v; want the crash", err)
				}
			case tc.kill:
				if err := waitErr(t, first.g); !errors.Is(err, kerr.ProducerFenced) || !killed.Load() {
					t.Fatalf("first graph: %v; want the end of its transaction to have failed", err)
				}
			default:
				waitFor(t, "the first graph to handle half", func() bool { return first.handled.Load() >= int64(n/2) })
				stop(t, first.g)
			}
			if (tc.fail || tc.kill) && first.aborts.Load() == 0 {
				t.Errorf("first graph: %v; want its last transaction aborted or failed", first)
			}

			second := newTxMember(c.txConfig(tc.second), nil)
			start(t, second.g)
			waitGroupAtEnd(t, c)
			stop(t, second.g)
			aborted := checkExactlyOnce(t, c, "out", n)
			t.Logf("first: %v; second: %v; %d aborted records in the output", first, second, aborted)
			if tc.kill && aborted == 0 {
				t.Error("no aborted record in the output: the killed transaction produced nothing, and the test shows nothing")
			}
			if got := first.committed.Load() + second.committed.Load(); got < int64(n) {
				t.Errorf("committed transactions carried %d records; want at least %d", got, n)
			}
		})
	}
}

// TestTransactRebalanceLeavesNoDuplicates runs half a stream through a member A, starts a
// member B once A has handled a fifth of the whole, writes the second half once the two
// share the partitions, and stops A once B has committed a transaction: the read_committed
// output has every expected output exactly once and the group commits the end.
func TestTransactRebalanceLeavesNoDuplicates(t *testing.T) {
	n := scale(40000, 10000)
	c := newCluster(t, 8, "in", "out")
	c.produce("in", n/2, 1000)
	a, b := newTxMember(c.txConfig("a"), nil), newTxMember(c.txConfig("b"), nil)
	start(t, a.g)
	waitFor(t, "A to handle a fifth", func() bool { return a.handled.Load() >= int64(n/5) })
	start(t, b.g)
	c.waitBalanced("g", "in", 2)
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		if err := c.tryProduce("in", n/2, n, 1000); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { <-produced })
	waitFor(t, "B to commit a transaction", func() bool { return b.commits.Load() > 0 })
	stop(t, a.g)
	<-produced
	waitGroupAtEnd(t, c)
	stop(t, b.g)
	aborted := checkExactlyOnce(t, c, "out", n)
	t.Logf("A: %v; B: %v; %d aborted records in the output", a, b, aborted)
	if got := a.committed.Load() + b.committed.Load(); got < int64(n) {
		t.Errorf("committed transactions carried %d records; want at least %d", got, n)
	}
}

// TestTransactConfigErrors: a configuration without Brokers, Topics, Group or
// TransactionalID, or whose Interval or DeliveryTimeout does not fit in the transaction
// timeout, or with kgo.BlockRebalanceOnPoll in its Options, fails Start, naming each fault
// once (with two producing stages); a member that reaches no broker stops its graph
// with an error naming the brokers; a nil body panics.
func TestTransactConfigErrors(t *testing.T) {
	body := func(s *flow.Stream[in]) *flow.Stream[uint64] {
		return s.Then(1, func(v in) uint64 { return v.id })
	}
	t.Run("missing", func(t *testing.T) {
		g := flow.New()
		kafka.Transact(g, 2, kafka.TransactConfig{}, decodeIn, body, encodeID)
		err := g.Start(context.Background())
		for _, want := range []string{"no Brokers", "no Topics", "no Group", "no TransactionalID"} {
			if err == nil || strings.Count(err.Error(), want) != 1 {
				t.Errorf("Start: %v; want it to say %q once", err, want)
			}
		}
	})
	t.Run("inconsistent", func(t *testing.T) {
		g := flow.New()
		kafka.Transact(g, 2, kafka.TransactConfig{
			Brokers: []string{"127.0.0.1:1"}, Topics: []string{"in"}, Group: "g",
			TransactionalID: "a", Topic: "out",
			Interval: 5 * time.Second, DeliveryTimeout: 6 * time.Second,
			Options: []kgo.Opt{kgo.TransactionTimeout(5 * time.Second)},
		}, decodeIn, body, encodeID)
		err := g.Start(context.Background())
		for _, want := range []string{"Interval 5s is not below the transaction timeout 5s", "DeliveryTimeout 6s exceeds the transaction timeout 5s"} {
			if err == nil || strings.Count(err.Error(), want) != 1 {
				t.Errorf("Start: %v; want it to say %q once", err, want)
			}
		}
	})
	t.Run("blocking option", func(t *testing.T) {
		g := flow.New()
		kafka.Transact(g, 1, kafka.TransactConfig{
			Brokers: []string{"127.0.0.1:1"}, Topics: []string{"in"}, Group: "g",
			TransactionalID: "a", Topic: "out", Options: []kgo.Opt{kgo.BlockRebalanceOnPoll()},
		}, decodeIn, body, encodeID)
		if err := g.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "BlockRebalanceOnPoll is not supported") {
			t.Errorf("Start: %v; want it to reject kgo.BlockRebalanceOnPoll", err)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		g := flow.New()
		kafka.Transact(g, 1, kafka.TransactConfig{
			Brokers: []string{"127.0.0.1:1"}, Topics: []string{"in"}, Group: "g",
			TransactionalID: "a", Topic: "out", DialTimeout: 2 * time.Second,
		}, decodeIn, body, encodeID)
		start(t, g)
		if err := waitErr(t, g); err == nil || !strings.Contains(err.Error(), "no broker of [127.0.0.1:1]") {
			t.Fatalf("Wait: %v; want an error naming the brokers", err)
		}
	})
	t.Run("nil body", func(t *testing.T) {
		defer func() {
			if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "kafka: Transact needs a body") {
				t.Errorf("recovered %v; want Transact's panic", p)
			}
		}()
		kafka.Transact[in, uint64](flow.New(), 1, kafka.TransactConfig{}, decodeIn, nil, encodeID)
	})
}

// TestTransactBrokersGoneMidRunEndStopWithAnError closes the cluster under a running
// Transact graph whose body holds records in flight: Stop returns within the bounds the
// configuration sets (DeliveryTimeout, the transaction timeout, RebalanceTimeout), with an
// error that says what failed.
func TestTransactBrokersGoneMidRunEndStopWithAnError(t *testing.T) {
	c := newCluster(t, 4, "in", "out")
	c.produce("in", 100000, 100)
	cfg := c.txConfig("a")
	cfg.DeliveryTimeout = time.Second
	cfg.RebalanceTimeout = 2 * time.Second
	cfg.Options = append(cfg.Options, kgo.TransactionTimeout(2*time.Second))
	var commits atomic.Int64
	cfg.OnTransaction = func(_ int, committed bool, _ error) {
		if committed {
			commits.Add(1)
		}
	}
	g := flow.New()
	kafka.Transact(g, 2, cfg, decodeIn, func(s *flow.Stream[in]) *flow.Stream[uint64] {
		return s.Then(2, func(v in) uint64 { time.Sleep(20 * time.Microsecond); return v.id })
	}, encodeID)
	start(t, g)
	waitFor(t, "a commit", func() bool { return commits.Load() > 0 })
	c.cl.Close()
	c.fake.Close()
	t0 := time.Now()
	done := make(chan error, 1)
	go func() { done <- g.Stop() }()
	select {
	case err := <-done:
		t.Logf("Stop after %v: %v", time.Since(t0), err)
		if err == nil || !strings.Contains(err.Error(), "transaction timeout") && !strings.Contains(err.Error(), "not produced") {
			t.Fatalf("Stop: %v; want the transaction's or its records' failure", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Stop did not return once the brokers were gone")
	}
}

// TestTransactLateOutputFails runs a body whose Stateful level passes each record's outputs
// on and emits one more in its End, at Stop, when the member has ended its last transaction:
// Stop returns ErrNoTransaction, the read_committed output is every expected output exactly
// once, without the late one, and the group commits the end of the input.
func TestTransactLateOutputFails(t *testing.T) {
	const late = 1 << 50
	n := scale(5000, 2000)
	c := newCluster(t, 4, "in", "out")
	c.produce("in", n, 100)
	g := flow.New()
	kafka.Transact(g, 2, c.txConfig("a"), decodeIn, func(s *flow.Stream[in]) *flow.Stream[uint64] {
		return s.Stateful(1, flow.Stateful[in, *uint64, uint64]{
			Init: func(*flow.Stage, *flow.Emitter[uint64]) (*uint64, error) { return new(uint64), nil },
			Each: func(sum *uint64, v in, e *flow.Emitter[uint64]) error {
				*sum++
				for _, id := range outputsOf(v.id) {
					e.Emit(id)
				}
				return nil
			},
			End: func(sum *uint64, e *flow.Emitter[uint64]) error { e.Emit(late | *sum); return nil },
		})
	}, encodeID)
	start(t, g)
	waitGroupAtEnd(t, c)
	done := make(chan error, 1)
	go func() { done <- g.Stop() }()
	select {
	case err := <-done:
		if !errors.Is(err, kafka.ErrNoTransaction) {
			t.Fatalf("Stop: %v; want ErrNoTransaction", err)
		}
		t.Logf("Stop: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("Stop hung")
	}
	checkExactlyOnce(t, c, "out", n)
	c.checkCommittedAtEnd("g", "in")
}

// TestTransactPoisonSkipped puts a record that does not decode amid the input, with the
// decoding level under Skip: the read_committed output holds every good record's outputs
// exactly once, and the group commits the end of the input, past the poison record.
func TestTransactPoisonSkipped(t *testing.T) {
	n := scale(4000, 2000)
	c := newCluster(t, 4, "in", "out")
	c.produce("in", n/2, 100)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := c.cl.ProduceSync(ctx, &kgo.Record{Topic: "in", Key: []byte("k1"), Value: []byte("poison")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := c.tryProduce("in", n/2, n, 100); err != nil {
		t.Fatal(err)
	}
	m := &txMember{g: flow.New()}
	cfg := c.txConfig("a")
	cfg.OnTransaction = func(records int, committed bool, _ error) {
		if committed {
			m.committed.Add(int64(records))
		} else {
			m.aborts.Add(1)
		}
	}
	kafka.Transact(m.g, 2, cfg, decodeIn, func(s *flow.Stream[in]) *flow.Stream[uint64] {
		return s.Expand(2, func(v in, e *flow.Emitter[uint64]) {
			for _, id := range outputsOf(v.id) {
				e.Emit(id)
			}
		})
	}, encodeID, flow.OnError(flow.Skip))
	start(t, m.g)
	waitGroupAtEnd(t, c)
	stop(t, m.g)
	checkExactlyOnce(t, c, "out", n)
	if m.aborts.Load() != 0 || m.committed.Load() != int64(n+1) {
		t.Errorf("%d aborted, committed transactions carried %d records; want none aborted and %d", m.aborts.Load(), m.committed.Load(), n+1)
	}
}

// TestTransactFilteredInputCommits runs a body that filters out every record: nothing is
// produced, and the transactions still commit the end of the input.
func TestTransactFilteredInputCommits(t *testing.T) {
	n := scale(3000, 1000)
	c := newCluster(t, 4, "in", "out")
	c.produce("in", n, 100)
	var committed, aborts atomic.Int64
	cfg := c.txConfig("a")
	cfg.OnTransaction = func(records int, ok bool, _ error) {
		if ok {
			committed.Add(int64(records))
		} else {
			aborts.Add(1)
		}
	}
	g := flow.New()
	kafka.Transact(g, 2, cfg, decodeIn, func(s *flow.Stream[in]) *flow.Stream[uint64] {
		return s.Filter(1, func(in) (uint64, bool) { return 0, false })
	}, encodeID)
	start(t, g)
	waitGroupAtEnd(t, c)
	stop(t, g)
	c.checkCommittedAtEnd("g", "in")
	if got, _ := c.readCommitted("out"); len(got) != 0 {
		t.Errorf("read_committed output has %d values; want none", len(got))
	}
	if aborts.Load() != 0 || committed.Load() != int64(n) {
		t.Errorf("%d aborted, committed transactions carried %d records; want none aborted and %d", aborts.Load(), committed.Load(), n)
	}
}
