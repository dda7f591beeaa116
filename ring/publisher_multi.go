package ring

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Multi-publisher claims race on the claim cursor with compare-and-swap; the
// winner owns [cur, cur+n). Commit marks each slot available by storing its
// sequence into the slot's mark (beside the entry or in an array of marks, see
// cell), so publishers never wait for each other to commit in order (a shared
// commit cursor would make a fast publisher wait behind a slow one, and a
// preempted publisher would stall everyone). Readers find the highest
// contiguous committed sequence by scanning the marks.

// tryClaimMulti is a multi-publisher claim's fast path, small enough to be
// inlined into claim and claimMultiSlow: compare-and-swaps of the claim cursor
// while the shared gate cache says there is room. It gives up on a closed
// ring, a full one by the cache or an n outside 1..Cap().
func (c *core) tryClaimMulti(n int) (int64, bool) {
	for uint(n-1) < uint(c.size) {
		cur := c.claimed.v.Load()
		hi := cur + int64(n)
		if cur < 0 || hi-c.size > c.gateCache.v.Load() {
			break
		}
		if c.claimed.v.CompareAndSwap(cur, hi) {
			return cur, true
		}
	}
	return 0, false
}

// claimMultiSlow is a multi-publisher claim of n slots once the fast path in
// claim gave up: it re-reads the gating readers into the shared cache and,
// while the ring is full, sleeps until there is room (or returns errFull if
// block is false). It returns ErrClosed once the ring is closed, and
// ctx.Err() if ctx is done while it waits.
func (c *core) claimMultiSlow(ctx context.Context, n int, block bool) (int64, error) {
	c.checkClaim(n)
	for {
		cur := c.claimed.v.Load()
		if cur < 0 {
			return 0, ErrClosed
		}
		if c.refreshGate(cur + int64(n) - c.size) {
			if lo, ok := c.tryClaimMulti(n); ok {
				return lo, nil
			}
			continue // another publisher took the room, or the ring closed
		}
		if !block {
			return 0, errFull
		}
		if err := c.awaitRoomMulti(ctx, n); err != nil {
			return 0, err
		}
	}
}

// awaitRoomMulti sleeps on the publisher waiter until the gating readers have
// released room for a claim of n slots, the ring is closed or ctx is done.
func (c *core) awaitRoomMulti(ctx context.Context, n int) error {
	w := claimWaits.Get().(*claimWait)
	w.c, w.n = c, int64(n)
	defer func() {
		w.c = nil
		claimWaits.Put(w)
	}()
	return c.pubWaiter.Wait(ctx, w.ready)
}

// refreshGate re-reads the gating readers into the shared cache and reports
// whether they have released up to need. The cache is stored only when it
// grows, so that claimers polling a full ring do not keep stealing its line
// from each other. Concurrent refreshes may still store an older value over a
// newer one; that is harmless because every stored value is a true lower
// bound of a sequence that only grows: a stale cache costs another refresh.
func (c *core) refreshGate(need int64) bool {
	c.freeze()
	g := c.minGate(math.MaxInt64)
	if g > c.gateCache.v.Load() {
		c.gateCache.v.Store(g)
	}
	return g >= need
}

// claimWait carries one blocked claimer's condition. Several claimers may
// sleep on the publisher waiter at once, each with its own n, so the condition
// cannot live in the ring; a closure per blocked Claim would allocate every
// time the ring fills, so the closures are bound once and pooled.
type claimWait struct {
	c     *core
	n     int64
	ready func() bool
}

var claimWaits = sync.Pool{New: func() any {
	w := new(claimWait)
	w.ready = func() bool {
		cur := w.c.claimed.v.Load()
		return cur < 0 || w.c.refreshGate(cur+w.n-w.c.size)
	}
	return w
}}

// markAvail publishes [lo, hi) on a multi-publisher ring by storing each
// slot's sequence into its mark: each store synchronizes with the reader's load
// that observes it, so a reader that finds seq in seq's mark sees the
// slot's contents. Small enough to be inlined into commit.
func (c *core) markAvail(lo, hi int64) {
	for s := lo; s < hi; s++ {
		storeSeq(c.availAt(s), s, c.lightCommit)
	}
}

// availAt returns seq's availability mark (multi-publisher only).
func (c *core) availAt(seq int64) *atomic.Int64 {
	return (*atomic.Int64)(unsafe.Add(c.avail, uintptr(seq&c.mask)*c.availStride))
}

// scanAvail returns the first sequence in [lo, end) that is not yet committed,
// or end.
func (c *core) scanAvail(lo, end int64) int64 {
	s := lo
	for s < end && c.availAt(s).Load() == s {
		s++
	}
	return s
}
