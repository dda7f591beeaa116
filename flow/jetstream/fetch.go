package jetstream

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/loopyring/loopyring/poller"
)

// A fetcher runs one goroutine that takes messages from a consumer's iterator and hands them
// to a source stage, which sleeps in its event loop until there are some.
//
// The hand-over holds at most limit messages: when the stage is behind, the goroutine waits
// for room, stops taking from the iterator, whose buffer fills up to its own bound, and the
// iterator then stops asking the server for more. So a full ring stops the fetch, and
// nothing between the server and the ring grows without bound. Handing over one message at a
// time through a channel was rejected: the stage would pay a channel receive per message,
// where a swap of two slices under a lock hands over everything fetched at once.
type fetcher struct {
	it     natsjs.MessagesContext
	loop   *poller.Loop
	limit  int
	cancel context.CancelFunc // ends a Next in progress
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

// startFetch starts the goroutine that feeds the stage whose loop is loop.
func startFetch(it natsjs.MessagesContext, loop *poller.Loop, limit int) *fetcher {
	ctx, cancel := context.WithCancel(context.Background())
	f := &fetcher{it: it, loop: loop, limit: limit, cancel: cancel, done: make(chan struct{})}
	f.room.L = &f.mu
	go f.run(ctx)
	return f
}

func (f *fetcher) run(ctx context.Context) {
	defer close(f.done)
	next := natsjs.NextContext(ctx)
	for {
		m, err := f.it.Next(next)
		if err != nil {
			// A missed heartbeat is the iterator's report of a silent server; it asks again
			// by itself (and the connection reconnects by itself), so it is not the end.
			if errors.Is(err, natsjs.ErrNoHeartbeat) && ctx.Err() == nil {
				continue
			}
			f.end(err)
			return
		}
		if !f.put(m) {
			// Stopped while holding m: give it back for redelivery now rather than after
			// AckWait. A failed Nak changes only when it comes back.
			_ = m.Nak()
			return
		}
	}
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

// end records why the iterator stopped giving messages, unless the stage stopped it.
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

// stop ends the goroutine and the iterator and returns the messages fetched and not taken,
// for the stage to give back. The goroutine ends promptly wherever it is: in Next (the
// context), waiting for room (the broadcast), or between the two (stopped).
func (f *fetcher) stop() []natsjs.Msg {
	f.cancel()
	f.mu.Lock()
	f.stopped = true
	held := f.msgs
	f.msgs = nil
	f.mu.Unlock()
	f.room.Broadcast()
	<-f.done
	// Messages in the iterator's buffer are dropped with it: unacknowledged, the server
	// redelivers them after AckWait.
	f.it.Stop()
	return held
}
