package ring

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/sys/cpu"
)

// singlePublisher is the state of the one goroutine that claims and commits on
// a single-publisher ring. Only that goroutine touches these fields, so they
// are plain integers; they share a padded line with nothing another thread
// writes.
type singlePublisher struct {
	_    cpu.CacheLinePad
	next int64 // next sequence to claim: claimed without the closed bit
	done int64 // next sequence to commit
	// gate caches the slowest gating reader's released sequence. Claims check
	// against it and read the readers' sequences only when it says the ring
	// is full; reading them on every claim would pull every reader's cache
	// line to the publisher's core per entry.
	gate  int64
	need  int64       // the gate value a blocked Claim waits for
	ready func() bool // bound once in init, so a blocked Claim does not allocate
	_     cpu.CacheLinePad
}

func (p *singlePublisher) init(c *core) {
	p.next, p.done = c.start, c.start
	p.gate = c.start - c.size - 1 // forces the first claim to the slow path (freeze)
	p.ready = func() bool {
		if c.claimed.v.Load() < 0 {
			return true
		}
		p.gate = c.minGate(math.MaxInt64)
		return p.gate >= p.need
	}
}

// tryClaimSingle is the inlineable fast path: room according to the cached gate,
// then a compare-and-swap of the claim cursor. The CAS rather than a plain
// store is what makes Close exact: it fails once Close has set the closed bit,
// so no claim can succeed after Close returns. Invalid n, a stale gate and
// a closed ring all fall to the slow path.
func (c *core) tryClaimSingle(n int) (int64, bool) {
	lo := c.pub.next
	hi := lo + int64(n)
	if uint(n-1) >= uint(c.size) || hi-c.size > c.pub.gate || !c.claimed.v.CompareAndSwap(lo, hi) {
		return lo, false
	}
	c.pub.next = hi
	return lo, true
}

// tryClaimSingleSlow re-reads the gating readers once and retries.
func (c *core) tryClaimSingleSlow(n int) (int64, bool) {
	c.checkClaim(n)
	c.freeze()
	if c.closed() {
		return 0, false
	}
	c.pub.gate = c.minGate(math.MaxInt64)
	return c.tryClaimSingle(n)
}

func (c *core) claimSingleSlow(ctx context.Context, n int) (int64, error) {
	c.checkClaim(n)
	c.freeze()
	p := &c.pub
	for {
		if c.closed() {
			return 0, ErrClosed
		}
		p.gate = c.minGate(math.MaxInt64)
		if p.gate < p.next+int64(n)-c.size {
			// Full. Wait until a quarter of the ring is free (or n slots, if more),
			// not just the first free slot: publisher and readers then trade large
			// batches instead of waking each other for every release, which with
			// more threads than cores costs a thread switch each time.
			p.need = p.next + max(int64(n), c.size/4) - c.size
			c.pubNeed.v.Store(p.need)
			err := c.pubWaiter.Wait(ctx, p.ready)
			c.pubNeed.v.Store(math.MaxInt64)
			if err != nil {
				return 0, err
			}
			continue
		}
		if lo, ok := c.tryClaimSingle(n); ok {
			return lo, nil
		}
	}
}

func (c *core) checkClaim(n int) {
	if n < 1 || int64(n) > c.size {
		panicClaimSize(n, c.size)
	}
}

// Unclaim gives the claimed, uncommitted slots from lo on back to a
// single-publisher ring, so that a publisher may reserve more slots than it
// ends up filling: claim ahead, commit what it wrote, and unclaim the rest
// before it stops. lo must lie between the committed position and the end of
// the claims. It reports false, and gives nothing back, once the ring is
// closed: readers may then be waiting for those slots, which must be
// committed. It panics on a multi-publisher ring, where other publishers' claims
// may follow the caller's.
func (b *Buffer[T]) Unclaim(lo int64) bool {
	c := &b.core
	p := &c.pub
	if c.multi {
		panic("ring: Unclaim on a multi-publisher ring")
	}
	if lo < p.done || lo > p.next {
		panic(fmt.Sprintf("ring: Unclaim(%d) outside the uncommitted claims [%d, %d)", lo, p.done, p.next))
	}
	if lo == p.next {
		return true
	}
	// The same compare-and-swap as a claim: it fails once Close has set the
	// closed bit, which keeps Close and Drained exact.
	if !c.claimed.v.CompareAndSwap(p.next, lo) {
		return false
	}
	p.next = lo
	return true
}
