package jetstream

import (
	"errors"
	"fmt"

	natsjs "github.com/nats-io/nats.go/jetstream"
)

// An ackQueue holds the messages a source stage emitted and has not acknowledged, in
// emission order: the i-th entry the stage emitted is the i-th message pushed, so the first
// Completed() entries are the first Completed() messages. It belongs to the stage's
// goroutine. Its length is bounded by the consumer's MaxAckPending, since the server stops
// delivering at that many unacknowledged messages.
type ackQueue struct {
	msgs  []natsjs.Msg // msgs[head:] are emitted and unacknowledged
	head  int
	acked int64 // messages acknowledged: the emission index of msgs[head]
}

func (q *ackQueue) push(m natsjs.Msg) { q.msgs = append(q.msgs, m) }

// emitted returns how many messages were pushed.
func (q *ackQueue) emitted() int64 { return q.acked + int64(len(q.msgs)-q.head) }

// unacked returns how many pushed messages are not acknowledged.
func (q *ackQueue) unacked() int { return len(q.msgs) - q.head }

// ackTo acknowledges the messages below emission index done. An acknowledgement is one
// publication on the connection, without waiting for the server: sending every message's
// acknowledgement synchronously (AckSync) was rejected for costing a round trip each, where
// the stage's end flushes the connection once.
func (q *ackQueue) ackTo(done int64) error {
	if done > q.emitted() {
		return fmt.Errorf("jetstream: %d entries finished of %d emitted", done, q.emitted())
	}
	for q.acked < done {
		m := q.msgs[q.head]
		q.msgs[q.head] = nil
		q.head++
		q.acked++
		// ErrMsgAlreadyAckd: decode acknowledged it, against its contract; it is done.
		if err := m.Ack(); err != nil && !errors.Is(err, natsjs.ErrMsgAlreadyAckd) {
			return fmt.Errorf("jetstream: acknowledge: %w", err)
		}
	}
	switch {
	case q.head == len(q.msgs):
		q.msgs, q.head = q.msgs[:0], 0
	case q.head > cap(q.msgs)/2:
		n := copy(q.msgs, q.msgs[q.head:])
		clear(q.msgs[n:])
		q.msgs, q.head = q.msgs[:n], 0
	}
	return nil
}

// nakAll gives msgs back for redelivery now rather than after AckWait: what a stopping
// stage fetched and did not emit. A failed Nak changes only when the message comes back, so
// its error is not one of the stage's.
func nakAll(msgs []natsjs.Msg) {
	for _, m := range msgs {
		_ = m.Nak()
	}
}
