package ring

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// closedBit marks the claim cursor as closed. Sequences are never negative, so
// the sign bit is free. On a multi-publisher ring, keeping the flag in the same
// word as the cursor makes Close and every claim linearize on one location: a
// claim's compare-and-swap fails if Close got there first, and Close's atomic
// Or returns exactly the sequences claimed before it. A single publisher does
// not pay for a compare-and-swap per claim: its claims publish their end in
// pub.end and then check the bit, see publishClaim.
const closedBit = math.MinInt64

// Buffer is a ring of capacity pre-allocated slots of type T, addressed by
// int64 sequences. Publishers claim ranges, fill the slots in place and commit
// them; readers wait for committed ranges, process them in place and release
// them. The zero Buffer is not usable: use [New]. A Buffer must not be copied.
type Buffer[T any] struct {
	_ noCopy
	// slots points at the first of the ring's slots, which lie stride bytes apart: in a
	// []T, or in a []cell[T] on a multi-publisher ring with fenced commits. An
	// unsafe.Pointer keeps the array alive and lets At serve both layouts without a
	// branch (and without a bounds check: seq&mask is always in range).
	slots  unsafe.Pointer
	stride uintptr
	core
}

// cell is a slot of a multi-publisher ring whose commits are fenced ([Fenced], or a
// platform without light stores): the entry and its availability mark side by side, so
// that the commit's fenced store waits for the one line the entry is on rather than for
// that line and then a line of a separate mark array that the other publishers write
// too. Where commits may be light, the marks keep an array of their own: a plain store
// does not wait, and the reader's scan then reads eight marks a line. The README's
// Performance section has the measurements behind both choices; padding cells to a cache
// line lost in both.
type cell[T any] struct {
	v     T
	avail atomic.Int64
}

// core is the non-generic part of a ring: everything but the slots. Readers
// point at it, so Reader and the barrier code are written once for every T.
type core struct {
	size  int64 // capacity; a power of two
	mask  int64 // size-1
	shift uint  // log2(size)
	multi bool
	start int64

	// lightStores: the ring may publish with light stores (the platform and
	// the kernel allow them, and Fenced was not given). light: a single
	// publisher publishes its claims' ends with light stores, and Close makes
	// up for it with heavyFence; a multi-publisher ring claims with
	// compare-and-swaps, which need no such help, so its Close runs no
	// membarrier. lightCommit: Commit uses light stores too, on either kind
	// of ring, which needs every waiter it wakes to be a PhasedWaiter (which
	// then fences before it sleeps for good); set by freeze. See
	// fence_linux_amd64.go.
	lightStores bool
	light       bool
	lightCommit bool

	pubWaiter Waiter

	// closing is set by Close after the closed bit (and the heavy fence, if
	// any). Drained looks at the claims' end only once it is set, which is
	// what makes Drained exact against a single publisher's claims; see
	// publishClaim. It sits with the read-mostly fields so that a reader
	// polling Drained (every idle ready check) does not pull the claim
	// cursor's line away from the publishers on every claim.
	closing atomic.Bool

	// Frozen by freeze, before the first claim, under mu. After that they are
	// read without locking: freeze happens before the claim's store that any
	// later reader or committer synchronizes with.
	mu      sync.Mutex
	started atomic.Bool
	readers []*Reader
	gates   []*sequence // released sequences of the readers nobody depends on
	roots   []Waiter    // waiters of readers without upstreams: what Commit wakes
	// phasedRoots holds the same waiters when every one is a *PhasedWaiter,
	// the default, so that Commit checks each for sleepers with an inlined
	// load rather than an interface call per reader; nil otherwise.
	phasedRoots []*PhasedWaiter

	// The availability marks of a multi-publisher ring: the mark of seq lies at
	// avail + (seq&mask)*availStride, in seq's cell (see cell) or in an array of
	// marks, and holds seq once seq is committed. Storing the sequence itself
	// rather than its round costs a word per slot but needs no shift on either
	// side and can never alias: a slot holds seq-k*size from an earlier round, or
	// its initial -1. nil on a single-publisher ring.
	avail       unsafe.Pointer
	availStride uintptr

	// cursor: the next sequence to commit (single publisher). Written by the
	// publisher in Commit, read by readers without upstreams.
	cursor sequence
	// claimed: the next sequence to claim, or'ed with closedBit once closed.
	// Written by claimers (compare-and-swap) and Close; read by Drained and
	// Len. A single publisher keeps its claims in pub.end instead; here it
	// only reads the closed bit, which Close alone writes.
	claimed sequence
	// gateCache: a lower bound of the slowest gating reader, shared by the
	// claimers of a multi-publisher ring so that most claims skip reading
	// every reader's sequence.
	gateCache sequence
	// pubNeed: the released sequence that a blocked single-publisher Claim
	// waits for. Written by that publisher around its sleep; read by gating
	// readers after each Release, which wake the publisher waiter only once
	// they reach it. MaxInt64 while no claim is blocked; MinInt64 forever on a
	// multi-publisher ring, whose blocked claimers are woken on every release.
	pubNeed sequence

	pub singlePublisher
}

// New returns a ring of capacity slots, allocated once. capacity must be a
// power of two between 2 and 1<<30. A capacity whose slots would take more memory
// than one allocation may is an error too, not a panic.
func New[T any](capacity int, opts ...Option) (*Buffer[T], error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	var cfg bufferConfig
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&cfg)
		}
	}
	if cfg.start < 0 {
		panic("ring: negative start sequence")
	}
	slotBytes := unsafe.Sizeof(*new(T))
	if cfg.multi {
		slotBytes = unsafe.Sizeof(*new(cell[T])) // an availability mark per slot, beside it or apart
	}
	if err := checkSize(capacity, slotBytes); err != nil {
		return nil, err
	}
	if cfg.pubWaiter == nil {
		cfg.pubWaiter = new(PhasedWaiter)
	}
	b := new(Buffer[T])
	c := &b.core
	c.size = int64(capacity)
	c.mask = c.size - 1
	for int64(1)<<c.shift < c.size {
		c.shift++
	}
	c.multi = cfg.multi
	c.start = cfg.start
	c.lightStores = !cfg.fenced && lightAvailable()
	c.light = c.lightStores && !c.multi
	c.pubWaiter = cfg.pubWaiter
	c.cursor.v.Store(cfg.start)
	c.claimed.v.Store(cfg.start)
	// Below any reachable gate, so that the first claim takes the slow path,
	// which freezes the reader set before anything is published.
	c.gateCache.v.Store(cfg.start - c.size - 1)
	c.pub.init(c)
	c.pubNeed.v.Store(math.MaxInt64)
	if c.multi {
		c.pubNeed.v.Store(math.MinInt64)
		if !c.lightStores { // Fenced, or no light stores here: see cell
			cells := make([]cell[T], capacity)
			for i := range cells {
				cells[i].avail.Store(-1)
			}
			b.slots, b.stride = unsafe.Pointer(&cells[0]), unsafe.Sizeof(cells[0])
			c.avail, c.availStride = unsafe.Pointer(&cells[0].avail), b.stride
		} else {
			slots := make([]T, capacity)
			b.slots, b.stride = unsafe.Pointer(&slots[0]), unsafe.Sizeof(slots[0])
			marks := make([]atomic.Int64, capacity)
			for i := range marks {
				marks[i].Store(-1)
			}
			c.avail, c.availStride = unsafe.Pointer(&marks[0]), unsafe.Sizeof(marks[0])
		}
	} else {
		slots := make([]T, capacity)
		b.slots, b.stride = unsafe.Pointer(&slots[0]), unsafe.Sizeof(slots[0])
	}
	return b, nil
}

// Cap returns the number of slots.
func (b *Buffer[T]) Cap() int { return int(b.size) }

// At returns the slot for sequence seq. The publisher writes it between Claim
// and Commit; a reader reads it between Wait (or TryRead) and Release.
func (b *Buffer[T]) At(seq int64) *T {
	return (*T)(unsafe.Add(b.slots, uintptr(seq&b.mask)*b.stride))
}

// Claim reserves the n consecutive slots [lo, lo+n) and returns lo; 1 <= n <=
// Cap(). While the ring is full (gated by the slowest gating reader) it sleeps
// on the publisher waiter. It returns ErrClosed if the ring is or becomes
// closed, ctx.Err() if ctx is done while it waits. A claimed range must be
// committed, even after Close.
//
// Claim panics if n is outside 1..Cap(), on an open or a closed ring, and
// claims nothing: no ring could ever grant such a claim, so asking for one is
// a programming error, like an index out of range, not a condition to handle.
func (b *Buffer[T]) Claim(ctx context.Context, n int) (lo int64, err error) {
	return b.claim(ctx, n, true)
}

// TryClaim is Claim without blocking: ok is false if the ring is full or closed.
// Like Claim, it panics if n is outside 1..Cap().
func (b *Buffer[T]) TryClaim(n int) (lo int64, ok bool) {
	lo, err := b.claim(context.Background(), n, false)
	return lo, err == nil
}

// Commit publishes [lo, lo+n), previously claimed, and wakes the readers that
// wait on the publisher. A single publisher commits in claim order.
func (b *Buffer[T]) Commit(lo int64, n int) { b.commit(lo, n, true) }

// CommitQuiet publishes [lo, lo+n) like Commit but wakes nobody: a reader
// already awake sees the entries, a sleeping one may sleep on until the next
// [Buffer.WakeReaders] (or Commit, or Close). A publisher with more work at
// hand uses it to defer the wake, so that the reader wakes once, to a large
// batch, rather than to every commit; it must call WakeReaders before it
// waits or blocks, or entries can sit unread behind a sleeping reader.
func (b *Buffer[T]) CommitQuiet(lo int64, n int) { b.commit(lo, n, false) }

// WakeReaders wakes the readers that wait on the publisher (those without
// [After]), as Commit does after its store. It reports whether one of them
// was parked in the Go runtime on a [PhasedWaiter] or a [Parker] (also behind
// [WaitPhases.Before]); a reader asleep on another Waiter is not counted. Safe
// from any goroutine; like a claim, it fixes the set of readers, so every
// reader must be added before it is first called.
func (b *Buffer[T]) WakeReaders() (parked bool) {
	b.freeze()
	return b.wakeRoots()
}

// wakeRoots wakes the waiters of the readers without upstreams and reports
// whether one of them had a goroutine parked on its own channel.
func (c *core) wakeRoots() (parked bool) {
	if c.phasedRoots != nil {
		for _, w := range c.phasedRoots {
			parked = parked || w.parked()
			w.Wake()
		}
		return parked
	}
	for _, w := range c.roots {
		if pw, ok := w.(parkedWaiter); ok && pw.parked() {
			parked = true
		}
		w.Wake()
	}
	return parked
}

// Close stops new claims. Blocked Claims return ErrClosed and blocked Waits
// return once drained; readers still receive every slot claimed before Close,
// once it is committed. Close is idempotent and safe from any goroutine.
func (b *Buffer[T]) Close() { b.close() }

// Closed reports whether Close has been called.
func (b *Buffer[T]) Closed() bool { return b.closed() }

// Len returns the number of committed entries the slowest gating reader has
// not released: a snapshot for statistics, stale as soon as it returns. It is 0
// for a ring without readers.
func (b *Buffer[T]) Len() int { return b.length() }

// NewReader adds a reader. Every reader must be added before the first claim
// (or Close); later calls fail with an error. With [After], the reader sees a
// sequence only after the given readers of this ring released it, which
// builds phases over one ring (diamonds allowed). The readers nobody depends
// on form the gating set: a slot is reused only once all of them released it.
// See also [ReaderWaiter] and [MaxBatch].
func (b *Buffer[T]) NewReader(opts ...ReaderOption) (*Reader, error) {
	return b.newReader(opts)
}

func (c *core) close() {
	c.freeze()
	old := c.claimed.v.Or(closedBit)
	if c.light {
		// A single publisher's claim stored its end with no fence before it
		// loaded the closed bit. After this, either that load saw the bit or
		// the store is visible to everyone: see publishClaim.
		heavyFence()
	}
	c.closing.Store(true) // by every Close, so Drained is exact once any Close returns
	if old&closedBit != 0 {
		return // already closed; the first Close does the waking
	}
	// Every waiter re-checks after this: readers find they are drained (or
	// wait for the last commits), blocked claimers find the ring closed.
	c.wakeReaders()
	c.pubWaiter.Wake()
}

func (c *core) wakeReaders() {
	for _, r := range c.readers {
		r.waiter.Wake()
	}
}

func (c *core) closed() bool { return c.claimed.v.Load() < 0 }

// checkClaim panics on a claim of n slots that no ring of this size could
// grant; the slow path of either kind of publisher calls it first.
func (c *core) checkClaim(n int) {
	if n < 1 || int64(n) > c.size {
		panicClaimSize(n, c.size)
	}
}

// final returns the end of the claimed sequences and whether the ring is
// closed. Once the ring is closed, a single publisher's end may still rise
// once, for a claim that took its first look at the closed bit before Close,
// and then falls back when that claim fails.
func (c *core) final() (int64, bool) {
	v := c.claimed.v.Load()
	if !c.multi {
		return c.pub.end.Load(), v < 0
	}
	return v &^ closedBit, v < 0
}
