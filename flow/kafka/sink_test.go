package kafka_test

// The sink: an entry is done only once the broker acknowledged its record, and failures
// follow the level's error policy.

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"sync"
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

func (c *cluster) sinkConfig(topic string) kafka.SinkConfig {
	return kafka.SinkConfig{Brokers: c.addrs, Topic: topic, DialTimeout: waitLimit, DeliveryTimeout: waitLimit}
}

func encodeID(id uint64) (*kgo.Record, error) { return &kgo.Record{Value: idValue(id)}, nil }

// checkIDs fails the test unless topic holds exactly the ids 0..n-1 (want) and no others.
func (c *cluster) checkIDs(topic string, want func(id uint64) bool, n int) {
	c.t.Helper()
	got := map[uint64]int{}
	for _, r := range c.readAll(topic) {
		got[binary.BigEndian.Uint64(r.Value)]++
	}
	bad := 0
	for id := range uint64(n) {
		if k := got[id]; want(id) != (k == 1) && bad < 5 {
			bad++
			c.t.Errorf("id %d is in %s %d times", id, topic, k)
		}
	}
	if len(got) > n {
		c.t.Errorf("%s holds %d ids; want at most %d", topic, len(got), n)
	}
}

// TestSinkCountsAnEntryDoneOnlyWhenAcknowledged holds every produce request at the broker:
// nothing published counts as completed until the broker answers, and then everything does,
// and every entry is in the topic once.
func TestSinkCountsAnEntryDoneOnlyWhenAcknowledged(t *testing.T) {
	n := scale(5000, 1000)
	c := newCluster(t, 4, "out")
	release := make(chan struct{})
	var held atomic.Int64
	c.fake.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.fake.KeepControl()
		held.Add(1)
		c.fake.SleepControl(func() { <-release })
		return nil, nil, false // then the cluster handles it
	})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open)
	g := flow.New()
	src := flow.Input[uint64](g)
	kafka.Sink(src.Stream, 2, c.sinkConfig("out"), encodeID)
	start(t, g)
	for id := range uint64(n) {
		if err := src.Publish(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a produce request", func() bool { return held.Load() > 0 })
	time.Sleep(50 * time.Millisecond) // room for a sink that returned early to be counted
	if got := src.Completed(); got != 0 {
		t.Fatalf("%d entries completed while the broker held every produce request", got)
	}
	open()
	waitFor(t, "every entry completed", func() bool { return src.Completed() == int64(n) })
	stop(t, g)
	c.checkIDs("out", func(uint64) bool { return true }, n)
}

// limitBatches makes the brokers refuse every batch of topic larger than max bytes.
func (c *cluster) limitBatches(topic string, max int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	v := strconv.Itoa(max)
	rs, err := c.adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: &v}}, topic)
	if err == nil {
		_, err = rs.On(topic, nil)
	}
	if err != nil {
		c.t.Fatalf("limit batches of %s: %v", topic, err)
	}
}

// TestSinkFailuresFollowThePolicy sends every seventh entry to a topic whose every batch
// is too large for the brokers, and fails the encoding of every eleventh: under Skip and
// ErrorSink the other entries are all produced and the failures counted (ErrorSink sees
// the broker's error); under StopGraph the graph stops with it.
func TestSinkFailuresFollowThePolicy(t *testing.T) {
	n := scale(3000, 600)
	errBad := errors.New("cannot encode")
	encode := func(id uint64) (*kgo.Record, error) {
		switch {
		case id%11 == 5:
			return nil, errBad
		case id%7 == 3:
			return &kgo.Record{Topic: "bad", Value: idValue(id)}, nil
		}
		return encodeID(id)
	}
	good := func(id uint64) bool { return id%11 != 5 && id%7 != 3 }
	for _, tc := range []struct {
		name   string
		policy func(*[]*flow.StageError, *sync.Mutex) flow.ErrorPolicy
	}{
		{"skip", func(*[]*flow.StageError, *sync.Mutex) flow.ErrorPolicy { return flow.Skip }},
		{"sink", func(errs *[]*flow.StageError, mu *sync.Mutex) flow.ErrorPolicy {
			return flow.ErrorSink(func(e *flow.StageError) { mu.Lock(); *errs = append(*errs, e); mu.Unlock() })
		}},
		{"stop", func(*[]*flow.StageError, *sync.Mutex) flow.ErrorPolicy { return flow.StopGraph }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, 4, "out", "bad")
			c.limitBatches("bad", 16)
			var mu sync.Mutex
			var errs []*flow.StageError
			g := flow.New()
			src := flow.Input[uint64](g)
			kafka.Sink(src.Stream, 2, c.sinkConfig("out"), encode, flow.OnError(tc.policy(&errs, &mu)), flow.Name("produce"))
			start(t, g)
			if tc.name == "stop" {
				for id := range uint64(n) {
					if src.Publish(context.Background(), id) != nil {
						break
					}
				}
				err := g.Wait()
				if err == nil || !errors.Is(err, kerr.MessageTooLarge) && !errors.Is(err, errBad) {
					t.Fatalf("Wait: %v; want the broker's rejection or the encoding error", err)
				}
				return
			}
			for id := range uint64(n) {
				if err := src.Publish(context.Background(), id); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "every entry done", func() bool { return src.Completed() == int64(n) })
			stop(t, g)
			c.checkIDs("out", good, n)
			failures := uint64(0)
			for _, s := range g.Stats() {
				if s.Level == "produce" {
					failures += s.Errors
				}
			}
			if failures == 0 {
				t.Error("no failure counted")
			}
			if tc.name == "sink" {
				mu.Lock()
				defer mu.Unlock()
				broker, encoding := false, false
				for _, e := range errs {
					broker = broker || errors.Is(e, kerr.MessageTooLarge)
					encoding = encoding || errors.Is(e, errBad)
					if e.Level != "produce" || !strings.Contains(e.Error(), "records not produced") {
						t.Errorf("error sink got %v", e)
					}
				}
				if !broker || !encoding {
					t.Errorf("error sink saw the broker's rejection: %v, the encoding error: %v", broker, encoding)
				}
			}
		})
	}
}
