package ring

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Reader consumes a ring's entries in sequence order, in batches. It is not
// generic: it deals only in sequences, and the caller reads the slots through
// [Buffer.At]. One goroutine at a time may call TryRead, Wait, Batches and
// Release; Drained is safe from any goroutine. A Reader must not be copied.
type Reader struct {
	_ noCopy

	// seq is the next sequence this reader has not released. Written only by
	// the reader's goroutine (Release); read by publishers (gating), by
	// downstream readers (their barrier) and by Drained.
	seq sequence

	// Reader-local: touched only by the reading goroutine.
	next  int64 // == seq, without an atomic load
	avail int64 // the barrier's last answer: everything below is readable

	c          *core
	upstream   []*Reader // this reader sees a sequence only after all of these released it
	downstream []*Reader // readers that list this one in After; appended to until freeze
	waiter     Waiter
	maxBatch   int64
	gather     int64                // Wait lingers on ranges shorter than this
	target     int64                // and goes on lingering, while the publisher keeps pace, up to ranges this long
	lingerFor  time.Duration        // how long each pause lasts; 0 turns lingering off
	clock      func() time.Duration // the pauses' clock: monotonic, a test's fake
	gating     bool                 // nobody depends on this reader: it holds the publisher back; set by freeze
	ready      func() bool          // r.hasWork, bound once so Wait does not allocate
}

func (c *core) newReader(opts []ReaderOption) (*Reader, error) {
	var cfg readerConfig
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&cfg)
		}
	}
	if cfg.batchSet && cfg.maxBatch < 1 {
		return nil, fmt.Errorf("ring: max batch %d is below 1", cfg.maxBatch)
	}
	if cfg.lingerSet && cfg.linger < 0 {
		return nil, fmt.Errorf("ring: linger %v is negative", cfg.linger)
	}
	r := &Reader{c: c, waiter: cfg.waiter, maxBatch: c.size}
	if cfg.batchSet {
		r.maxBatch = min(int64(cfg.maxBatch), c.size)
	}
	r.lingerFor = cfg.linger
	if !cfg.lingerSet {
		r.lingerFor = defaultLinger
		if runtime.NumCPU() < 2 || runtime.GOMAXPROCS(0) < 2 {
			r.lingerFor = 0
		}
	}
	if r.lingerFor > 0 {
		r.gather = min(lingerBatch, r.maxBatch, c.size/2)
		r.target = min(r.maxBatch, c.size/4)
	}
	r.clock = monotonic
	for i, up := range cfg.after {
		switch {
		case up == nil:
			return nil, fmt.Errorf("ring: upstream reader %d is nil", i)
		case up.c != c:
			return nil, fmt.Errorf("ring: upstream reader %d belongs to another ring", i)
		}
		if !contains(r.upstream, up) {
			r.upstream = append(r.upstream, up)
		}
	}
	if r.waiter == nil {
		r.waiter = new(PhasedWaiter)
	}
	if pw, ok := r.waiter.(*PhasedWaiter); ok && c.lightStores && len(r.upstream) == 0 {
		// Commits may wake it after a light store. Marked here, before the
		// reader exists for anyone to wait on, rather than by freeze, so that
		// no park can have skipped the settling it needs.
		pw.fenced.Store(true)
	}
	r.seq.v.Store(c.start)
	r.next, r.avail = c.start, c.start
	r.ready = r.hasWork

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started.Load() {
		if c.closed() {
			return nil, fmt.Errorf("ring: new reader: %w", ErrClosed)
		}
		return nil, errStarted
	}
	for _, up := range r.upstream {
		up.downstream = append(up.downstream, r)
	}
	c.readers = append(c.readers, r)
	return r, nil
}

func contains(rs []*Reader, r *Reader) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// TryRead returns the available range [lo, hi), at most MaxBatch entries,
// without blocking; ok is false if nothing is available now. Until Release,
// calling it again returns the same lo.
func (r *Reader) TryRead() (lo, hi int64, ok bool) {
	lo, hi = r.next, r.avail
	if hi <= lo {
		if hi = r.refresh(); hi <= lo {
			return lo, lo, false
		}
	}
	return lo, min(hi, lo+r.maxBatch), true
}

// Wait blocks on the reader's waiter until at least one entry is available and
// returns the available range [lo, hi), like TryRead. It returns ErrClosed once
// the ring is closed and the reader has released everything claimed before
// Close, and ctx.Err() if ctx is done first. A range found short (see
// [Linger]) is returned after a pause of the reader's linger time, or a few
// while the publisher keeps pace, or once ctx is done if that comes first,
// with what was committed meanwhile.
func (r *Reader) Wait(ctx context.Context) (lo, hi int64, err error) {
	lo, hi = r.next, r.avail
	if hi <= lo {
		if hi = r.refresh(); hi <= lo {
			if err := r.waitSlow(ctx); err != nil {
				return lo, lo, err
			}
			hi = r.avail
		}
		if hi-lo < r.gather {
			hi = r.linger(ctx)
		}
	}
	return lo, min(hi, lo+r.maxBatch), nil
}

// waitSlow sleeps on the waiter until the barrier moves past r.next (r.avail
// then holds it) or the reader is drained.
func (r *Reader) waitSlow(ctx context.Context) error {
	for {
		if r.Drained() {
			return ErrClosed
		}
		if err := r.waiter.Wait(ctx, r.ready); err != nil {
			return err
		}
		if r.avail > r.next || r.refresh() > r.next {
			return nil
		}
	}
}

// linger pauses, then re-reads the barrier. A reader that keeps pace
// with a publisher committing one entry at a time would otherwise take one or
// two entries per batch, and both sides would pay a cache-line transfer per
// entry: the publisher's store of the cursor misses because the reader just
// read it, and the reader reads slots the publisher is still filling. After
// the pause the range is typically tens of entries long and those transfers
// are shared by all of them. The pause does not poll the barrier, since each
// poll would pull the cursor's line away from the publisher, which is the
// cost it avoids; a pause of a few polls spread over the same time measured
// slower. It spins rather than yields: yielding between clock reads helped
// multicast a little but slowed MPSC far more, since the processor given away
// went to a second publisher that then contended with the first (the README's
// Performance section has the measurements). The default is 0 where a reader
// cannot have a core of its own (one CPU, or GOMAXPROCS 1 when the reader is
// made).
//
// A pause that brings a full batch (gather entries or more) says that the
// publisher keeps pace: the reader would take this batch, catch up again at
// once and hand over at that size for as long as the pace lasts, while the
// ring has room to let the publisher run far ahead. So the reader pauses
// again, for as long as each pause brings a full batch, until the range
// reaches target (a quarter of the ring, or MaxBatch) or lingerSteps pauses
// have passed. Each step costs one read of the barrier, and its gain measures
// the arrival rate where it matters, at the end: a publisher that slows down
// or loses its processor ends the lingering within one step, so at low rates
// Wait pauses once, as it always has. A quarter of the ring leaves the
// publisher room to go on while the reader catches up, so it does not block
// on a full ring for a reader that chose to wait. Rejected: one longer second
// pause, computed from the first pause's rate, which was as fast on SPSC but
// slower on multicast (four goroutines on two processors), where a publisher
// that lost its processor kept the reader spinning for nothing; and yielding
// through the later steps, which made MPSC twice as slow (both measured while
// this was written, on 2 vCPUs; the README has the figures for what was kept).
//
// A done ctx ends the lingering early: the range found is returned as it is.
func (r *Reader) linger(ctx context.Context) int64 {
	hi := r.avail
	for range lingerSteps {
		from := hi
		start := r.clock()
		for r.clock()-start < r.lingerFor && ctx.Err() == nil {
		}
		hi = r.refresh()
		if hi-from < r.gather || hi-r.next >= r.target || ctx.Err() != nil {
			break
		}
	}
	return hi
}

// monotonic is a lingering reader's clock: the time since the package started,
// read as time.Since reads it, from the monotonic clock alone (time.Now would
// read the wall clock too, twice the cost per poll of the spin).
func monotonic() time.Duration { return time.Since(started) }

var started = time.Now()

// hasWork is the condition Wait sleeps on: something to read, or nothing will
// ever come again.
func (r *Reader) hasWork() bool { return r.refresh() > r.next || r.Drained() }

// Release marks every sequence below hi as processed, with one store, then
// wakes the readers that depend on this one or, if none does, the publisher
// waiter. hi must lie within what TryRead or Wait returned; releasing lets the
// slots be reused, so the caller must be done with them.
func (r *Reader) Release(hi int64) {
	if hi <= r.next || hi > r.avail {
		if hi == r.next {
			return
		}
		panicRelease(hi, r.next, r.avail)
	}
	r.next = hi
	r.seq.v.Store(hi)
	r.wakeAfterRelease(hi)
}

// wakeAfterRelease runs after the store of seq; see PhasedWaiter.park for why
// waking after the store cannot lose a wakeup.
//
// A gating reader wakes the publisher only once it has released what a blocked
// Claim needs (pubNeed). The same Dekker argument holds: the publisher stores
// pubNeed, then re-reads the readers' sequences; the reader stores its sequence,
// then loads pubNeed; one of them sees the other's store.
func (r *Reader) wakeAfterRelease(hi int64) {
	for _, d := range r.downstream {
		d.waiter.Wake()
	}
	if r.gating && hi >= r.c.pubNeed.v.Load() {
		r.c.pubWaiter.Wake()
	}
}

// Drained reports whether the ring is closed and this reader has released
// every sequence claimed before Close. It is exact: every claim either fails
// or is visible to Drained once Close has run (multi-publisher claims and Close
// linearize on the claim cursor; a single publisher's claims order themselves
// against Close as publishClaim explains), so no successfully claimed slot
// can be outstanding when Drained reports true.
func (r *Reader) Drained() bool {
	if !r.c.closing.Load() {
		return false
	}
	end, closed := r.c.final()
	return closed && r.seq.v.Load() >= end
}

// The barrier answers one question for a reader: below which sequence is
// everything readable? A reader without upstreams asks the publishers; a
// downstream phase asks its upstream readers, which only ever release what
// they could read, so it never needs to consult the publishers as well.

// refresh recomputes the reader's barrier and caches it in r.avail. TryRead
// calls it only once the cached range is used up, so a reader going through a
// large available range touches shared cache lines once per batch, not once per
// entry.
func (r *Reader) refresh() int64 {
	var hi int64
	switch {
	case len(r.upstream) > 0:
		hi = r.upstream[0].seq.v.Load()
		for _, up := range r.upstream[1:] {
			hi = min(hi, up.seq.v.Load())
		}
	case r.c.multi:
		// Scan no further than one batch: what lies beyond would be
		// rescanned after the next Release anyway. The scan needs no bound
		// from the claim cursor: a slot holds s only once s is committed,
		// and within one capacity of r.next no two sequences share a slot.
		// Not loading the claim cursor keeps its line with the claimers.
		// A lingering reader rescans from r.next after each pause, though
		// everything below r.avail is known to be committed: starting at
		// r.avail measured 11% slower with 4 publishers at 65,536 slots,
		// one entry per claim, since the rescan (of lines this core holds)
		// was part of each pause, and shorter pauses made smaller batches.
		hi = r.c.scanAvail(r.next, r.next+r.maxBatch)
	default:
		hi = r.c.cursor.v.Load()
	}
	r.avail = hi
	return hi
}
