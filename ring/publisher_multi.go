package ring

import (
	"context"
	"math"
	"sync"
)

// Multi-publisher claims race on the claim cursor with compare-and-swap; the
// winner owns [cur, cur+n). Commit marks each slot available by storing its
// sequence into avail, so publishers never wait for each other to commit in
// order (a shared commit cursor would make a fast publisher wait behind a slow
// one, and a preempted publisher would stall everyone). Readers find the
// highest contiguous committed sequence by scanning avail.

func (c *core) tryClaimMulti(n int) (int64, bool) {
	c.checkClaim(n)
	for {
		cur := c.claimed.v.Load()
		if cur < 0 {
			return 0, false
		}
		hi := cur + int64(n)
		if hi-c.size > c.gateCache.v.Load() && !c.refreshGate(hi-c.size) {
			return 0, false
		}
		if c.claimed.v.CompareAndSwap(cur, hi) {
			return cur, true
		}
	}
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

// claimMulti is a multi-publisher Claim after core.claim's fast loop gave up:
// it re-reads the gating readers (tryClaimMulti), then sleeps until there is
// room, the ring closes or ctx ends.
func (c *core) claimMulti(ctx context.Context, n int) (int64, error) {
	if lo, ok := c.tryClaimMulti(n); ok {
		return lo, nil
	}
	return c.claimMultiSlow(ctx, n)
}

func (c *core) claimMultiSlow(ctx context.Context, n int) (int64, error) {
	w := claimWaits.Get().(*claimWait)
	w.c, w.n = c, int64(n)
	defer func() {
		w.c = nil
		claimWaits.Put(w)
	}()
	for {
		if c.closed() {
			return 0, ErrClosed
		}
		if err := c.pubWaiter.Wait(ctx, w.ready); err != nil {
			return 0, err
		}
		if lo, ok := c.tryClaimMulti(n); ok {
			return lo, nil
		}
	}
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

// scanAvail returns the first sequence in [lo, end) that is not yet committed,
// or end.
func (c *core) scanAvail(lo, end int64) int64 {
	s := lo
	for s < end && c.avail[s&c.mask].Load() == s {
		s++
	}
	return s
}
