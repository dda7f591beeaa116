package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/poller"
)

// sourceStage is one stage of a source level at run time. Everything in it belongs to the
// stage's goroutine: the source function and the callbacks of its loop.
//
// The source function does not return until the stage is done: it sleeps in the stage's
// loop itself, on a condition its fetcher makes true. Returning at once and emitting from a
// callback on a descriptor the fetcher writes was rejected: a callback cannot fail the stage
// under the level's policy the way a returned error does, and it would cost a pipe.
type sourceStage struct {
	ss       *flow.SourceStage[record]
	g        *flow.Graph
	cfg      *SourceConfig
	consumer string
	window   int // the consumer's MaxAckPending, or 0 for none

	f       *fetcher
	q       ackQueue
	spare   []natsjs.Msg // the fetcher's next hand-over buffer
	timer   *poller.Timer
	due     time.Time // when timer fires
	tick    bool      // the ack timer fired
	lastAck time.Time // when the stage last acknowledged
	stalls  int       // ack rounds in a row that found nothing more finished
	frozen  bool      // the graph failed: acknowledge nothing more
}

// runStage is the source function of every stage of a source level.
func runStage(g *flow.Graph, ss *flow.SourceStage[record], cfg *SourceConfig) error {
	s := &sourceStage{ss: ss, g: g, cfg: cfg, consumer: cfg.Consumers[ss.Index()%len(cfg.Consumers)]}
	c, err := s.open()
	if err != nil {
		return err
	}
	s.f = startFetch(c, ss.Loop(), cfg.Batch)
	err = s.serve()
	nakAll(s.f.stop())
	if err != nil {
		// The fetch or an acknowledgement failed, likely the connection: what was emitted
		// and not acknowledged is redelivered after AckWait.
		return err
	}
	return s.drain()
}

// open looks the stage's consumer up and checks that it acknowledges explicitly.
func (s *sourceStage) open() (natsjs.Consumer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout)
	c, err := s.cfg.JetStream.Consumer(ctx, s.cfg.Stream, s.consumer)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("jetstream: consumer %q of stream %q: %w", s.consumer, s.cfg.Stream, err)
	}
	// AckAll would acknowledge, with one stage's acknowledgement, messages another client
	// still holds; AckNone cannot redeliver anything.
	if p := c.CachedInfo().Config.AckPolicy; p != natsjs.AckExplicitPolicy {
		return nil, fmt.Errorf("jetstream: consumer %q of stream %q acknowledges with %s, and a source needs %s",
			s.consumer, s.cfg.Stream, p, natsjs.AckExplicitPolicy)
	}
	s.window = max(c.CachedInfo().Config.MaxAckPending, 0)
	return c, nil
}

// serve emits what the fetcher hands over and acknowledges what the graph finished, until the
// stage stops (nil) or the fetch or an acknowledgement fails.
func (s *sourceStage) serve() error {
	loop := s.ss.Loop()
	ready := func() bool { return s.f.ready.Load() || s.tick || s.ss.Stopping() }
	for {
		// A background context never ends the wait, and the loop closes only after the
		// stage has ended: Wait returns when ready does.
		_ = loop.Wait(context.Background(), ready)
		if s.ss.Stopping() {
			return nil
		}
		msgs, err := s.f.take(s.spare)
		s.emit(msgs)
		clear(msgs)
		s.spare = msgs
		if err != nil {
			return fmt.Errorf("jetstream: fetch from consumer %q of stream %q: %w", s.consumer, s.cfg.Stream, err)
		}
		if err := s.ackDue(); err != nil {
			return err
		}
	}
}

// emit emits msgs in order and commits them. Once the graph stops, Emit refuses, and the rest
// go back to the server.
func (s *sourceStage) emit(msgs []natsjs.Msg) {
	for i, m := range msgs {
		if s.ss.Emit(record{msg: m, stage: s.ss.Index()}) != nil {
			nakAll(msgs[i:])
			break
		}
		s.q.push(m)
	}
	s.ss.Flush()
}

// ackDue acknowledges what is finished when the ack interval has passed since the last time,
// and arms the timer that brings the stage back for it while it would otherwise sleep. The
// time is checked here as well as by the timer because a busy stage's wait returns at once,
// without running due timers.
func (s *sourceStage) ackDue() error {
	now := time.Now()
	if s.tick || now.Sub(s.lastAck) >= s.interval() {
		s.tick = false
		s.lastAck = now
		if err := s.ack(); err != nil {
			return err
		}
	}
	s.arm()
	return nil
}

// interval is AckInterval, or a millisecond (the loop's timer granularity) while the stage
// holds half the consumer's MaxAckPending unacknowledged: the server stops delivering at
// MaxAckPending, and then only an acknowledgement brings more, so a stage that waited the
// whole interval there would cap the throughput at MaxAckPending per interval. The short
// interval doubles, back up to AckInterval, with every round that finds nothing more
// finished, so that a stalled graph is not asked a thousand times a second.
func (s *sourceStage) interval() time.Duration {
	if s.window > 0 && s.q.unacked() >= s.window/2 {
		return min(s.cfg.AckInterval, time.Millisecond<<min(s.stalls, 16))
	}
	return s.cfg.AckInterval
}

// arm schedules the ack timer while messages wait for acknowledgement, and brings it
// forward when the interval has shortened. An idle stage with nothing to acknowledge has no
// timer, and sleeps without waking.
func (s *sourceStage) arm() {
	if s.q.unacked() == 0 {
		return
	}
	due := time.Now().Add(s.interval())
	if s.timer != nil {
		if !s.due.After(due) {
			return
		}
		s.timer.Stop()
	}
	s.due = due
	s.timer = s.ss.Loop().AfterFunc(time.Until(due), func() {
		s.timer = nil
		s.tick = true
	})
}

// ack acknowledges the messages whose entries the graph has finished, unless the graph has
// failed. Completed is read before the graph's error: an entry whose failure stopped the graph
// is finished only after the failure was recorded, so an ack that sees it finished sees the
// failure too, and the failing entry's message is never acknowledged, whichever level failed.
func (s *sourceStage) ack() error {
	if s.frozen {
		return nil
	}
	done := s.ss.Completed()
	var se *flow.StageError
	if errors.As(s.g.Err(), &se) {
		s.frozen = true
		return nil
	}
	if done == s.q.acked {
		s.stalls++
		return nil
	}
	s.stalls = 0
	return s.q.ackTo(done)
}

// drain acknowledges, once the stage has stopped fetching, every message it emitted as the
// graph finishes it, then flushes the connection so that the acknowledgements have reached
// the server when the graph's Stop or Wait returns. The graph goes on draining meanwhile:
// the stage's ring stays open, and what it holds flows on to the levels below.
func (s *sourceStage) drain() error {
	loop := s.ss.Loop()
	for {
		if err := s.ack(); err != nil {
			return err
		}
		if s.frozen || s.q.unacked() == 0 {
			break
		}
		s.arm()
		_ = loop.Wait(context.Background(), func() bool { return s.tick })
		s.tick = false
	}
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	if s.q.acked == 0 {
		return nil
	}
	if err := s.cfg.JetStream.Conn().FlushTimeout(s.cfg.Timeout); err != nil {
		return fmt.Errorf("jetstream: flush the acknowledgements to consumer %q of stream %q: %w", s.consumer, s.cfg.Stream, err)
	}
	return nil
}
