package kafka_test

// Failures: a graph that stops on a failure commits nothing past it and its records are read
// again; unreachable brokers end in errors, not hangs; a record that does not decode follows
// the decoding level's policy.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestCrashRedeliversWithoutLoss stops a graph by a failure under StopGraph halfway
// through (a crash, as far as the group can tell: nothing more is committed), then runs a
// second graph in the same group. Every offset the first graph committed follows only
// records it handled; the second reads exactly the rest of every partition (each record
// once, unless a commit failed as the two consumers of a graph rebalanced); so every record
// is handled, and those handled twice are the ones the first graph handled past its last
// commit. The decoding level's ring is small, so that the graph's
// completion, and with it the commits, follows the slow sink closely.
func TestCrashRedeliversWithoutLoss(t *testing.T) {
	n := scale(20000, 5000)
	c := newCluster(t, 8, "in")
	c.produce("in", n, 100)
	cfg := c.sourceConfig("g", "in")
	cfg.CommitInterval = time.Millisecond
	var f failures
	cfg.OnCommit = f.watch(nil)
	errCrash := errors.New("crash")

	first := newSeen()
	g1 := flow.New()
	kafka.Source(g1, 2, cfg, decodeIn, flow.Capacity(256)).
		SinkErr(1, func(v in) error {
			if v.id == uint64(n/2) {
				return errCrash
			}
			if v.id%8 == 0 {
				time.Sleep(50 * time.Microsecond)
			}
			first.add(v.part, v.off)
			return nil
		})
	start(t, g1)
	if err := g1.Wait(); !errors.Is(err, errCrash) {
		t.Fatalf("first graph: Wait returned %v; want the crash", err)
	}
	crashed := c.committed("g", "in")
	committed := 0
	for p, at := range crashed {
		committed += int(at)
		for off := range at {
			if first.count(p, off) == 0 {
				t.Fatalf("partition %d committed at %d, but the first graph never handled offset %d", p, at, off)
			}
		}
	}

	second := newSeen()
	g2 := flow.New()
	kafka.Source(g2, 2, cfg, decodeIn).Sink(1, func(v in) { second.add(v.part, v.off) })
	start(t, g2)
	ends := c.ends("in")
	rest := 0
	for p, end := range ends {
		rest += int(end - crashed[p])
	}
	waitFor(t, "the rest of every partition", func() bool { _, d := second.total(); return d >= rest })
	stop(t, g2)
	c.checkCommittedAtEnd("g", "in")

	twice := 0
	for p, end := range ends {
		for off := range end {
			k1, k2 := first.count(p, off), second.count(p, off)
			switch {
			case (k1 > 1 || k2 > 1) && f.none():
				t.Fatalf("partition %d offset %d: handled %d times by the first graph, %d by the second", p, off, k1, k2)
			case (k2 > 0) != (off >= crashed[p]):
				t.Fatalf("partition %d offset %d: read again %v, but the crash committed %d", p, off, k2 > 0, crashed[p])
			case k1+k2 == 0:
				t.Fatalf("partition %d offset %d: lost", p, off)
			}
			twice += min(k1, 1) * min(k2, 1)
		}
	}
	t.Logf("%d records committed before the crash, %d handled again after it", committed, twice)
}

// TestUnreachableBrokerIsAnError: a source that reaches no broker stops its graph with an
// error that names the brokers, and a sink that reaches none fails Start; neither hangs.
func TestUnreachableBrokerIsAnError(t *testing.T) {
	nowhere := []string{"127.0.0.1:1"} // refused: nothing listens on port 1
	t.Run("source", func(t *testing.T) {
		g := flow.New()
		cfg := kafka.SourceConfig{Brokers: nowhere, Topics: []string{"in"}, Group: "g", DialTimeout: 2 * time.Second}
		kafka.Source(g, 1, cfg, decodeIn).Sink(1, func(in) {})
		start(t, g)
		err := waitErr(t, g)
		if err == nil || !strings.Contains(err.Error(), "no broker of [127.0.0.1:1]") {
			t.Fatalf("Wait: %v; want an error naming the brokers", err)
		}
	})
	t.Run("sink", func(t *testing.T) {
		g := flow.New()
		src := flow.Input[uint64](g)
		kafka.Sink(src.Stream, 1, kafka.SinkConfig{Brokers: nowhere, Topic: "out", DialTimeout: 2 * time.Second}, encodeID)
		err := g.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), "no broker of [127.0.0.1:1]") {
			t.Fatalf("Start: %v; want an error naming the brokers", err)
		}
	})
	t.Run("config", func(t *testing.T) {
		g := flow.New()
		kafka.Source(g, 1, kafka.SourceConfig{}, decodeIn).Sink(1, func(in) {})
		start(t, g)
		err := waitErr(t, g)
		for _, want := range []string{"no Brokers", "no Topics", "no Group"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Wait: %v; want it to say %q", err, want)
			}
		}
	})
}

// TestBrokersGoneMidRunEndStopWithAnError closes the cluster under a running graph: Stop
// returns, with the final commit's error, within the bounds the configuration sets.
func TestBrokersGoneMidRunEndStopWithAnError(t *testing.T) {
	c := newCluster(t, 4, "in")
	c.produce("in", 1000, 10)
	cfg := c.sourceConfig("g", "in")
	cfg.RebalanceTimeout = 4 * time.Second // a commit may take a quarter of it
	got := newSeen()
	g := flow.New()
	kafka.Source(g, 1, cfg, decodeIn).Sink(1, func(v in) { got.add(v.part, v.off) })
	start(t, g)
	waitFor(t, "every record", func() bool { _, d := got.total(); return d == 1000 })
	c.cl.Close()
	c.fake.Close()
	done := make(chan error, 1)
	go func() { done <- g.Stop() }()
	select {
	case err := <-done:
		if err != nil && !strings.Contains(err.Error(), "final commit") {
			t.Fatalf("Stop: %v; want nil or the final commit's error", err)
		}
		t.Logf("Stop: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("Stop did not return once the brokers were gone")
	}
}

// TestPoisonRecordFollowsThePolicy puts records that do not decode among good ones. Under
// Skip the graph goes on, counts them, and commits past them; under StopGraph it stops
// with the decoding error and never commits past the record that failed.
func TestPoisonRecordFollowsThePolicy(t *testing.T) {
	const n, poisonEvery = 2000, 250
	setup := func(t *testing.T) *cluster {
		c := newCluster(t, 4, "in")
		recs := make([]*kgo.Record, 0, n)
		for i := range n {
			v := idValue(uint64(i))
			if i%poisonEvery == poisonEvery-1 {
				v = []byte("poison")
			}
			recs = append(recs, &kgo.Record{Topic: "in", Key: []byte{byte(i % 16)}, Value: v})
		}
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := c.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("skip", func(t *testing.T) {
		c := setup(t)
		got := newSeen()
		g := flow.New()
		kafka.Source(g, 2, c.sourceConfig("g", "in"), decodeIn, flow.OnError(flow.Skip), flow.Name("decode")).
			Sink(1, func(v in) { got.add(v.part, v.off) })
		start(t, g)
		good := n - n/poisonEvery
		waitFor(t, "every good record", func() bool { _, d := got.total(); return d == good })
		stop(t, g)
		c.checkCommittedAtEnd("g", "in")
		skipped := uint64(0)
		for _, s := range g.Stats() {
			if s.Level == "decode" {
				skipped += s.Errors
			}
		}
		if skipped != n/poisonEvery {
			t.Errorf("%d records skipped; want %d", skipped, n/poisonEvery)
		}
	})
	t.Run("stop", func(t *testing.T) {
		c := setup(t)
		poison := map[int32]int64{} // each partition's first poison offset
		for _, r := range c.readAll("in") {
			if len(r.Value) != 8 {
				if at, ok := poison[r.Partition]; !ok || r.Offset < at {
					poison[r.Partition] = r.Offset
				}
			}
		}
		g := flow.New()
		kafka.Source(g, 2, c.sourceConfig("g", "in"), decodeIn, flow.Name("decode")).Sink(1, func(in) {})
		start(t, g)
		err := waitErr(t, g)
		var se *flow.StageError
		if !errors.As(err, &se) || se.Level != "decode" || !strings.Contains(err.Error(), "value of 6 bytes") {
			t.Fatalf("Wait: %v; want the decoding error", err)
		}
		for p, at := range c.committed("g", "in") {
			if first, ok := poison[p]; ok && at > first {
				t.Errorf("partition %d committed at %d, past the poison record at %d", p, at, first)
			}
		}
	})
}

// waitErr waits for g to stop by itself, within waitLimit, and returns its error.
func waitErr(t *testing.T, g *flow.Graph) error {
	t.Helper()
	select {
	case <-g.Done():
		return g.Wait()
	case <-time.After(waitLimit):
		t.Fatal("the graph did not stop")
		return nil
	}
}

// TestFetchFailureStopsTheGraph makes every fetch fail with an error the client does not
// retry, once the graph has had every record: the graph stops with it, naming the
// partition, and the final commit still covers what the graph finished.
func TestFetchFailureStopsTheGraph(t *testing.T) {
	c := newCluster(t, 4, "in")
	c.produce("in", 1000, 10)
	got := newSeen()
	g := flow.New()
	kafka.Source(g, 1, c.sourceConfig("g", "in"), decodeIn).Sink(1, func(v in) { got.add(v.part, v.off) })
	start(t, g)
	waitFor(t, "every record", func() bool { _, d := got.total(); return d == 1000 })
	c.fake.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.fake.KeepControl()
		fr := req.(*kmsg.FetchRequest)
		resp := fr.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range fr.Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	err := waitErr(t, g)
	if !errors.Is(err, kerr.TopicAuthorizationFailed) || !strings.Contains(err.Error(), "kafka: fetch: in/") {
		t.Fatalf("Wait: %v; want the fetch error, naming the partition", err)
	}
	c.checkCommittedAtEnd("g", "in")
}
