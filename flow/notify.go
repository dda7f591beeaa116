package flow

import (
	"context"
	"time"

	"github.com/loopyring/loopyring/poller"
	"github.com/loopyring/loopyring/ring"
)

// A stage's event loop is the ring waiter of its readers and of its blocked publisher: the
// ring sleeps a reader or publisher in the loop, and a Wake ends exactly that stage's sleep.
var _ ring.Waiter = (*poller.Loop)(nil)

// notifier is the waiter of a reader on a processing stage's own ring when the reader has
// no upstream phase: the only wakes it receives come from the publishing stage's Commit and
// Close, on that stage's goroutine. (Readers of a source's ring are woken at once: a source
// may emit slowly from a long-running function, and a deferred wake would hold its entries
// back until it went idle.)
//
// It lets the publishing stage defer waking a sleeping reader while it still has input to
// process, and pay the wake when it goes idle, is about to block on a full ring, has
// committed a quarter ring since it last paid, or ends a batch more than maxDeferredWake
// after the first wake it deferred (which bounds the latency a deferral adds). A reader then wakes to a large batch instead of
// to every commit. Waking on every commit was rejected: with more stages than cores each
// wake is a thread switch, and on the development machine those switches, not the entries,
// dominated the seed topology.
type notifier struct {
	loop *poller.Loop // the reading stage's loop
	up   *stage       // the publishing stage
	owed bool         // a wake is deferred; touched only on up's goroutine
}

func (n *notifier) Wait(ctx context.Context, ready func() bool) error { return n.loop.Wait(ctx, ready) }

func (n *notifier) Wake() {
	if !n.up.deferring {
		n.loop.Wake()
		return
	}
	if !n.owed {
		n.owed = true
		if len(n.up.owed) == 0 {
			n.up.owedAt = time.Now()
		}
		n.up.owed = append(n.up.owed, n)
	}
}

// maxDeferredWake bounds how long a busy stage may keep a reader's wake owed.
const maxDeferredWake = 100 * time.Microsecond

// payWakes wakes every reader whose wake the stage deferred.
func (st *stage) payWakes() {
	for _, n := range st.owed {
		n.owed = false
		n.loop.Wake()
	}
	st.owed = st.owed[:0]
	st.sincePaid = 0
}
