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

// claim is Claim, and TryClaim when block is false, for every T. A single
// publisher's fast path is written out here rather than called, so that a
// claim that finds room costs one call (a second measured slower, see the
// README): room by the cached gate and a ring not closed yet, then the claim
// published. A multi-publisher ring takes its compare-and-swap loop,
// tryClaimMulti, inlined from publisher_multi.go. Anything else (a full ring
// by the cache, a closed ring, a bad n) goes on to the slow path, which sorts
// it out and claims with the same helpers.
//
// The single publisher's first look at the closed bit keeps claims made after
// Close from touching end at all (each would make Drained report false for a
// moment); publishClaim's second look is the one that decides.
func (c *core) claim(ctx context.Context, n int, block bool) (int64, error) {
	if c.multi {
		if lo, ok := c.tryClaimMulti(n); ok {
			return lo, nil
		}
		return c.claimMultiSlow(ctx, n, block)
	}
	lo := c.pub.end.Load()
	hi := lo + int64(n)
	if uint(n-1) < uint(c.size) && hi-c.size <= c.pub.gate && c.claimed.v.Load() >= 0 {
		if c.publishClaim(hi) {
			return lo, nil
		}
		c.retractClaim(lo)
	}
	return c.claimSingleSlow(ctx, n, block)
}

// publishClaim stores hi, the end of a claim that found room, then checks for
// Close, and reports whether the claim stands; if not, the caller takes it
// back with retractClaim. Small enough to be inlined into claim and
// claimSingleSlow.
//
// Close and the claim order themselves as in Dekker's pattern: the claim
// stores end, then loads the closed bit; Close sets the closed bit, then
// publishes closing, after which readers load end. Either the claim sees the
// bit and fails, or the reader that sees closing also sees end including the
// claim, so Drained cannot report true while a successful claim is
// outstanding. With light stores the claim's store→load has no fence; Close's
// heavyFence supplies it for both sides.
func (c *core) publishClaim(hi int64) bool {
	storeSeq(&c.pub.end, hi, c.light)
	return c.claimed.v.Load() >= 0
}

// retractClaim takes back a claim that found the ring closed after storing its
// end. A reader may have seen that end and may be waiting for the slots, so
// the readers are woken to look again.
func (c *core) retractClaim(lo int64) {
	c.pub.end.Store(lo)
	c.wakeReaders()
}

// claimSingleSlow is a single publisher's claim of n slots once the fast
// path in claim gave up: it re-reads the gating readers and, while the ring
// is full, waits for them (or returns errFull if block is false). It returns
// ErrClosed once the ring is closed, and ctx.Err() if ctx is done while it
// waits.
func (c *core) claimSingleSlow(ctx context.Context, n int, block bool) (int64, error) {
	c.checkClaim(n)
	c.freeze()
	p := &c.pub
	for {
		if c.closed() {
			return 0, ErrClosed
		}
		p.gate = c.minGate(math.MaxInt64)
		lo := p.end.Load()
		hi := lo + int64(n)
		if hi-c.size <= p.gate {
			if c.publishClaim(hi) {
				return lo, nil
			}
			c.retractClaim(lo)
			continue // closed: the top of the loop returns
		}
		if !block {
			return 0, errFull
		}
		// Full. Wait until a quarter of the ring is free (or n slots, if more),
		// not just the first free slot: publisher and readers then trade large
		// batches instead of waking each other for every release, which with
		// more threads than cores costs a thread switch each time.
		p.need = lo + max(int64(n), c.size/4) - c.size
		c.pubNeed.v.Store(p.need)
		err := c.pubWaiter.Wait(ctx, p.ready)
		c.pubNeed.v.Store(math.MaxInt64)
		if err != nil {
			return 0, err
		}
	}
}

// commit is Commit for every T, in one call: the store, then the wake. A
// single publisher publishes [lo, hi) with one store of the cursor, written
// out here like its claim: readers that load a cursor >= hi see every slot
// write made before it. One unsigned compare rejects n < 1 and a range past
// the claims (an n so large that hi overflows included), and the cursor
// check a commit out of claim order. A multi-publisher ring marks the slots
// with markAvail, inlined from publisher_multi.go.
func (c *core) commit(lo int64, n int, wake bool) {
	hi := lo + int64(n)
	switch {
	case !c.multi && lo == c.cursor.v.Load() && uint64(n-1) < uint64(c.pub.end.Load()-lo):
		storeSeq(&c.cursor.v, hi, c.lightCommit)
	case c.multi && uint(n-1) < uint(c.size):
		c.markAvail(lo, hi)
	case c.multi:
		panicClaimSize(n, c.size)
	default:
		panicCommit(lo, n, c.cursor.v.Load())
	}
	// Wake after the store: see PhasedWaiter.park for why this order cannot
	// lose a wakeup.
	if !wake {
		return
	}
	if c.phasedRoots != nil {
		for _, w := range c.phasedRoots {
			w.Wake()
		}
		return
	}
	for _, w := range c.roots {
		w.Wake()
	}
}

// Unclaim gives the claimed, uncommitted slots from lo on back to a
// single-publisher ring, so that a publisher may reserve more slots than it
// ends up filling: claim ahead, commit what it wrote, and unclaim the rest
// before it stops. lo must lie between the committed position and the end of
// the claims; outside that range Unclaim panics. It reports false, and gives nothing back, once the ring is
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
