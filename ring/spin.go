package ring

import (
	"sync/atomic"
	"time"
)

// SpinBudget caps how many waiters spin at once. Spinning pays only while the
// goroutine being waited for runs on another core; a spinner that takes the core
// the publisher needs delays the very entry it waits for, and more spinners
// than spare cores collapse throughput. A budget is the number of spare cores
// that may be spent on spinning; a waiter that finds none left parks at once.
// The zero value grants nothing (every waiter parks at once). A SpinBudget is
// safe for concurrent use and must not be copied.
type SpinBudget struct {
	_ noCopy
	// limit is written by SetLimit (whoever knows how many cores are spare:
	// flow, when graphs start and stop); used is changed by every spinning
	// waiter. Both are read by every waiter about to spin.
	limit atomic.Int64
	used  atomic.Int64
}

// SetLimit sets how many waiters may spin at once; n <= 0 lets none. Waiters
// already spinning finish their spin.
func (b *SpinBudget) SetLimit(n int) { b.limit.Store(int64(max(n, 0))) }

// Limit returns the limit SetLimit last set, 0 if that was negative.
func (b *SpinBudget) Limit() int { return int(b.limit.Load()) }

// acquire takes a core from the budget; it reports false if none is spare.
func (b *SpinBudget) acquire() bool {
	for {
		u := b.used.Load()
		if u >= b.limit.Load() {
			return false
		}
		if b.used.CompareAndSwap(u, u+1) {
			return true
		}
	}
}

func (b *SpinBudget) release() { b.used.Add(-1) }

// spinFor polls ready for up to d and reports whether it became true. The
// clock is read once every few polls: a poll is a few loads, a clock read
// costs as much as many of them.
func spinFor(d time.Duration, ready func() bool) bool {
	start := time.Now()
	for i := 1; ; i++ {
		if ready() {
			return true
		}
		if i%16 == 0 && time.Since(start) >= d {
			return false
		}
	}
}
