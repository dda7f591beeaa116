package ring

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// singlePublisher is the state of the one goroutine that claims and commits on
// a single-publisher ring. Only that goroutine touches these fields, so they
// are plain integers; they share a padded line with nothing another thread
// writes.
type singlePublisher struct {
	_ cpu.CacheLinePad
	// end is the next sequence to claim. Close and Drained read it to learn
	// where the claims stopped; each claim stores it before it checks for
	// Close, see publishClaim. The next sequence to commit is the cursor.
	// Keeping no private copies of either saves a store per claim and per
	// commit, which counts: the publisher's stores queue behind its stores to
	// slots whose lines the readers hold.
	end atomic.Int64
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
	p.end.Store(c.start)
	p.gate = c.start - c.size - 1 // forces the first claim to the slow path (freeze)
	p.ready = func() bool {
		if c.claimed.v.Load() < 0 {
			return true
		}
		p.gate = c.minGate(math.MaxInt64)
		return p.gate >= p.need
	}
}

// tryClaimSingle is the fast path: room according to the cached gate and a
// ring not closed yet, then the claim published. Invalid n, a stale gate and a
// closed ring all fall to the slow path. The first look at the closed bit
// keeps claims made after Close from touching end at all (each would make
// Drained report false for a moment); publishClaim's second look is the one
// that decides.
func (c *core) tryClaimSingle(n int) (int64, bool) {
	lo := c.pub.end.Load()
	hi := lo + int64(n)
	if uint(n-1) >= uint(c.size) || hi-c.size > c.pub.gate || c.claimed.v.Load() < 0 {
		return lo, false
	}
	return lo, c.publishClaim(lo, hi)
}

// publishClaim stores the end of the claim [lo, hi), then checks for Close;
// if the ring closed meanwhile, it takes the claim back and reports false.
//
// Close and the claim order themselves as in Dekker's pattern: the claim
// stores end, then loads the closed bit; Close sets the closed bit, then
// publishes closing, after which readers load end. Either the claim sees the
// bit and fails, or the reader that sees closing also sees end including the
// claim, so Drained cannot report true while a successful claim is
// outstanding. With light stores the claim's store→load has no fence; Close's
// heavyFence supplies it for both sides.
func (c *core) publishClaim(lo, hi int64) bool {
	storeSeq(&c.pub.end, hi, c.light)
	if c.claimed.v.Load() < 0 {
		c.retractClaim(lo)
		return false
	}
	return true
}

// retractClaim takes back a claim that found the ring closed after storing its
// end. A reader may have seen that end and may be waiting for the slots, so
// the readers are woken to look again.
func (c *core) retractClaim(lo int64) {
	c.pub.end.Store(lo)
	c.wakeReaders()
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
		next := p.end.Load()
		if p.gate < next+int64(n)-c.size {
			// Full. Wait until a quarter of the ring is free (or n slots, if more),
			// not just the first free slot: publisher and readers then trade large
			// batches instead of waking each other for every release, which with
			// more threads than cores costs a thread switch each time.
			p.need = next + max(int64(n), c.size/4) - c.size
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
	done, next := c.cursor.v.Load(), p.end.Load()
	if lo < done || lo > next {
		panic(fmt.Sprintf("ring: Unclaim(%d) outside the uncommitted claims [%d, %d)", lo, done, next))
	}
	if lo == next {
		return true
	}
	if c.closed() {
		return false
	}
	p.end.Store(lo)
	// A Close between the check and the store may have let readers see the
	// old end and wait for slots that will never be committed.
	if c.closed() {
		c.wakeReaders()
	}
	return true
}
