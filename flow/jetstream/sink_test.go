package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/jetstream"
)

// encodeOut publishes id to out.<id>, with the id as the message id, so that a retried
// publication whose first acknowledgement was lost is stored once.
func encodeOut(id int) (*nats.Msg, error) {
	m := nats.NewMsg("out." + strconv.Itoa(id))
	m.Data = encodeID(id)
	m.Header.Set(natsjs.MsgIDHeader, strconv.Itoa(id))
	return m, nil
}

// TestSinkFinishesOnlyStoredEntries publishes through a sink of two stages with a small
// window: at every point the publisher's Completed count is read, the stream already holds
// at least that many messages, since an entry finishes only on its acknowledgement; at the
// end every entry is stored exactly once.
func TestSinkFinishesOnlyStoredEntries(t *testing.T) {
	const n = 5_000
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{Name: "out", Subjects: []string{"out.>"}})

	g := newGraph()
	in := flow.Input[int](g, flow.Name("ids"))
	jetstream.Sink(in.Stream, 2, jetstream.SinkConfig{JetStream: js, MaxPending: 16}, encodeOut, flow.Name("publish"))
	start(t, g)
	ctx := context.Background()
	for id := range n {
		if err := in.Publish(ctx, id); err != nil {
			t.Fatalf("Publish(%d): %v", id, err)
		}
		if id%50 == 0 {
			done := in.Completed()
			if stored := streamMsgs(t, js, "out"); stored < uint64(done) {
				t.Fatalf("%d entries finished with %d stored", done, stored)
			}
		}
	}
	if !eventually(func() bool { return in.Completed() == n }) {
		t.Fatalf("%d of %d entries finished", in.Completed(), n)
	}
	if err := g.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	ids := readIDs(t, js, "out")
	for id := range n {
		if ids[id] != 1 {
			t.Fatalf("id %d stored %d times", id, ids[id])
		}
	}
}

// TestSinkFailuresFollowThePolicy: a publication with nowhere to go (no stream listens on
// the subject) is retried, then fails its batch under the level's policy, as an entry that
// encode refuses does; the other entries of the batch are published all the same.
func TestSinkFailuresFollowThePolicy(t *testing.T) {
	const n = 20
	s := runServer(t)
	_, js := connect(t, s.ClientURL())
	addStream(t, js, natsjs.StreamConfig{Name: "out", Subjects: []string{"out.>"}})
	errPoison := errors.New("poison")
	encode := func(id int) (*nats.Msg, error) {
		switch id {
		case 7:
			return nil, errPoison
		case 13:
			m, _ := encodeOut(id)
			m.Subject = "nowhere"
			return m, nil
		}
		return encodeOut(id)
	}
	cfg := jetstream.SinkConfig{JetStream: js, Attempts: 2, RetryWait: time.Millisecond, Timeout: 2 * time.Second}
	for _, tc := range []struct {
		name   string
		policy func(record func(*flow.StageError)) flow.ErrorPolicy
	}{
		{"skip", func(func(*flow.StageError)) flow.ErrorPolicy { return flow.Skip }},
		{"error sink", func(record func(*flow.StageError)) flow.ErrorPolicy { return flow.ErrorSink(record) }},
		{"stop graph", func(func(*flow.StageError)) flow.ErrorPolicy { return flow.StopGraph }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			out, err := js.Stream(ctx, "out")
			if err != nil {
				t.Fatal(err)
			}
			if err := out.Purge(ctx); err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var reported []error
			record := func(se *flow.StageError) {
				mu.Lock()
				defer mu.Unlock()
				reported = append(reported, se.Err)
			}
			g := newGraph()
			in := flow.Input[int](g)
			jetstream.Sink(in.Stream, 1, cfg, encode, flow.Name("publish"), flow.OnError(tc.policy(record)))
			start(t, g)
			stops := tc.name == "stop graph"
			for id := range n {
				if err := in.Publish(ctx, id); err != nil {
					if stops && errors.Is(err, flow.ErrStopped) {
						break // the failure stopped the graph already
					}
					t.Fatalf("Publish(%d): %v", id, err)
				}
			}
			if stops {
				reported = []error{waitGraph(t, g)}
			} else {
				if !eventually(func() bool { return in.Completed() == n }) {
					t.Fatalf("%d of %d entries finished", in.Completed(), n)
				}
				if err := g.Stop(); err != nil {
					t.Fatalf("Stop: %v", err)
				}
			}
			if levelStats(g, "publish").Errors == 0 {
				t.Fatal("no failure counted")
			}
			if stored := streamMsgs(t, js, "out"); stored > n-2 {
				t.Fatalf("%d stored of the %d publishable", stored, n-2)
			}
			if tc.name == "skip" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reported) == 0 || reported[0] == nil {
				t.Fatal("no failure reported")
			}
			text := fmt.Sprint(reported)
			for _, want := range []string{"not published", "poison"} {
				if !strings.Contains(text, want) {
					t.Errorf("the failures %q do not mention %q", text, want)
				}
			}
		})
	}
}
