package ring

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// ErrClosed is returned by claims made after [Buffer.Close], and by
// [Reader.Wait] once the ring is closed and the reader has seen every entry
// that was successfully claimed.
var ErrClosed = errors.New("ring: closed")

// Capacity limits. The upper bound keeps the slot array within what one
// allocation can reasonably hold and leaves sequences far from overflow.
const (
	minCapacity = 2
	maxCapacity = 1 << 30
)

// maxRingBytes bounds the memory of one ring's slots (and marks): far above any real ring,
// and below what the Go runtime refuses to allocate, so that an absurd capacity or entry
// size is an error from New rather than a panic inside it.
const maxRingBytes = min(1<<46, math.MaxInt)

// checkSize checks that capacity slots of slotBytes each fit under maxRingBytes.
func checkSize(capacity int, slotBytes uintptr) error {
	hi, total := bits.Mul64(uint64(capacity), uint64(slotBytes))
	if hi != 0 || total > maxRingBytes {
		return fmt.Errorf("ring: %d slots of %d bytes is more memory than a ring may take (%d bytes)", capacity, slotBytes, uint64(maxRingBytes))
	}
	return nil
}

func checkCapacity(capacity int) error {
	switch {
	case capacity < minCapacity:
		return fmt.Errorf("ring: capacity %d is below the minimum of %d", capacity, minCapacity)
	case capacity > maxCapacity:
		return fmt.Errorf("ring: capacity %d is above the maximum of %d", capacity, maxCapacity)
	case capacity&(capacity-1) != 0:
		return fmt.Errorf("ring: capacity %d is not a power of two", capacity)
	}
	return nil
}

// errFull is how a claim that may not block (TryClaim's) learns that the ring
// is full; TryClaim reports it as false.
var errFull = errors.New("ring: full")

// errStarted is returned by NewReader once the gating set has been frozen.
// Adding a reader later would let the publisher overwrite slots the new reader
// has not seen, so it is refused rather than raced.
var errStarted = errors.New("ring: reader added after publishing started")

// Misuse panics: these are programmer errors on the hot path, where returning
// an error would cost every correct caller a branch on a value it never checks.
// They are kept out of line so that the checks do not push Commit, Claim and
// Release over the inlining budget.

//go:noinline
func panicClaimSize(n int, capacity int64) {
	panic(fmt.Sprintf("ring: claim of %d slots, want 1..%d", n, capacity))
}

//go:noinline
func panicCommit(lo int64, n int, want int64) {
	panic(fmt.Sprintf("ring: commit of [%d, %d) out of order or unclaimed, next commit starts at %d", lo, lo+int64(n), want))
}

//go:noinline
func panicRelease(hi, next, avail int64) {
	panic(fmt.Sprintf("ring: release up to %d outside the read range [%d, %d]", hi, next, avail))
}
