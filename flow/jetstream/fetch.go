package jetstream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/poller"
)

// A fetcher runs one goroutine that fetches a consumer's messages and hands them to a source
// stage, which sleeps in its event loop until there are some.
//
// The goroutine asks the server for Batch messages at a time (Fetch), hands them over as
// they arrive, and asks for the next batch only once the last message of this one is handed
// over. The hand-over holds at most Batch messages: when the stage is behind, the goroutine
// waits for room, and no request leaves for the server meanwhile. So a full ring stops the
// fetch, and besides the ring the client holds one request's messages, the hand-over's,
// and the batch the stage is emitting.
//
// The consumer's message iterator (Messages), which asks ahead of the client by itself, was
// rejected: when a reconnection or a missed heartbeat resets its accounting while the stage
// is behind, it asks again for a full buffer on top of the one it holds, overflows its
// channel, and drops messages, which then wait out AckWait and hold places under
// MaxAckPending meanwhile. Handing over one message at a time through a channel was rejected
// too: the stage would pay a channel receive per message, where a swap of two slices under a
// lock hands over everything fetched at once.
type fetcher struct {
	c      natsjs.Consumer
	loop   *poller.Loop
	limit  int
	cancel context.CancelFunc // ends the fetch in progress
	done   chan struct{}      // closed when the goroutine has returned

	mu      sync.Mutex
	room    sync.Cond    // signalled when the stage takes the messages, or the fetch stops
	msgs    []natsjs.Msg // fetched, not taken yet
	err     error        // why fetching ended, when it was not stop
	stopped bool         // stop was called: the goroutine puts nothing more

	// ready is the stage's wait condition: msgs or err is waiting. It is written under mu by
	// both sides and read by the stage without the lock, around every sleep.
	ready atomic.Bool
}

const (
	// fetchWait bounds one fetch request: an idle stage asks again this often.
	fetchWait = 5 * time.Second
	// fetchHeartbeat is how often the server confirms a waiting request: two missed
	// heartbeats (a server gone, a connection that moved to another node) end the request,
	// and the goroutine asks again.
	fetchHeartbeat = time.Second
	// retryWait is the pause after a fetch that failed without a message, doubled up to
	// maxRetryWait while failures follow each other, so that a server that refuses at once
	// is not asked in a tight loop.
	retryWait    = 10 * time.Millisecond
	maxRetryWait = time.Second
)

// startFetch starts the goroutine that feeds the stage whose loop is loop.
func startFetch(c natsjs.Consumer, loop *poller.Loop, limit int) *fetcher {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fetcher{c: c, loop: loop, limit: limit, cancel: cancel, done: make(chan struct{})}
	f.room.L = &f.mu
	go f.run(ctx)
	return f
}

func (f *fetcher) run(ctx context.Context) {
	defer close(f.done)
	pause := time.Duration(0)
	for {
		got, err := f.fetch(ctx)
		if ctx.Err() != nil {
			return // stopped
		}
		if err != nil && terminal(err) {
			f.end(err)
			return
		}
		switch {
		case got > 0 || err == nil:
			pause = 0
		case pause == 0:
			pause = retryWait
		default:
			pause = min(2*pause, maxRetryWait)
		}
		if pause > 0 {
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return
			}
		}
	}
}

// fetch makes one request and hands over what it brings; it returns how many messages it
// handed over and why the request ended early, if it did.
func (f *fetcher) fetch(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	b, err := f.c.Fetch(f.limit, natsjs.FetchContext(ctx), natsjs.FetchHeartbeat(fetchHeartbeat))
	if err != nil {
		return 0, err
	}
	got := 0
	for m := range b.Messages() {
		if !f.put(m) {
			// Stopped: the cancelled request closes the channel at once. What it holds goes
			// back for redelivery now rather than after AckWait; a failed Nak changes only
			// when a message comes back.
			cancel()
			_ = m.Nak()
			for m := range b.Messages() {
				_ = m.Nak()
			}
			return got, nil
		}
		got++
	}
	err = b.Error()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		err = nil // the request outlived its expiry: the server's answer to it was lost
	}
	return got, err
}

// terminal reports whether a fetch error ends the stage: the connection is closed, or the
// consumer is gone. Everything else (a missed heartbeat, a change of the consumer's leader,
// too many waiting requests) passes, and the next request tries again.
func terminal(err error) bool {
	return errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, natsjs.ErrConnectionClosed) ||
		errors.Is(err, natsjs.ErrConsumerDeleted) || errors.Is(err, natsjs.ErrConsumerNotFound) ||
		errors.Is(err, natsjs.ErrBadRequest)
}

// put hands m over, waiting for room; it reports false once the fetch is stopped.
func (f *fetcher) put(m natsjs.Msg) bool {
	f.mu.Lock()
	for len(f.msgs) >= f.limit && !f.stopped {
		f.room.Wait()
	}
	if f.stopped {
		f.mu.Unlock()
		return false
	}
	f.msgs = append(f.msgs, m)
	f.ready.Store(true)
	f.mu.Unlock()
	f.loop.Wake() // after the store: the stage's wait re-checks ready before it sleeps
	return true
}

// end records why fetching failed for good, unless the stage stopped it.
func (f *fetcher) end(err error) {
	f.mu.Lock()
	if !f.stopped {
		f.err = err
		f.ready.Store(true)
	}
	f.mu.Unlock()
	f.loop.Wake()
}

// take returns what was fetched, and the error that ended the fetch if it has ended, and
// keeps spare (emptied) for the next messages. Stage only.
func (f *fetcher) take(spare []natsjs.Msg) ([]natsjs.Msg, error) {
	f.mu.Lock()
	got := f.msgs
	f.msgs = spare[:0]
	err := f.err
	f.ready.Store(err != nil)
	f.mu.Unlock()
	f.room.Signal()
	return got, err
}

// stop ends the goroutine and returns the messages fetched and not taken, for the stage to
// give back. The goroutine ends promptly wherever it is: waiting for a request (the
// context), for room (the broadcast), or between the two (stopped).
func (f *fetcher) stop() []natsjs.Msg {
	f.cancel()
	f.mu.Lock()
	f.stopped = true
	held := f.msgs
	f.msgs = nil
	f.mu.Unlock()
	f.room.Broadcast()
	<-f.done
	return held
}
