package ring

import "time"

// WithStart starts a ring's sequences at start instead of 0, so that tests run
// near the top of the sequence space.
var WithStart = withStart

// LingerOf reports the pause a reader's Wait takes before a short range.
func LingerOf(r *Reader) time.Duration { return r.lingerFor }

// SetClock makes the pauses of r's Wait read clock instead of the monotonic
// clock.
func SetClock(r *Reader, clock func() time.Duration) { r.clock = clock }

// LingerSteps is the most pauses one Wait takes.
const LingerSteps = lingerSteps

// LightAvailable reports whether rings may publish with light stores here.
var LightAvailable = lightAvailable()

// Light reports whether a ring publishes its claims with light stores, and
// whether its commits do.
func Light[T any](b *Buffer[T]) (claims, commits bool) { return b.light, b.lightCommit }

// WaiterFenced reports whether a PhasedWaiter runs the heavy fence before it parks.
func WaiterFenced(w *PhasedWaiter) bool { return w.fenced.Load() }

// SetClosedBit sets the ring's closed bit and nothing else: the first step of
// Close, so that tests can stop there.
func SetClosedBit[T any](b *Buffer[T]) { b.claimed.v.Or(closedBit) }

// PublishClaim is a single publisher's claim of [lo, hi) from the point where
// it has found room and no Close, as claim goes on from there: it reports
// whether the claim stands, and takes the claim back if not.
func PublishClaim[T any](b *Buffer[T], lo, hi int64) bool {
	if b.publishClaim(hi) {
		return true
	}
	b.retractClaim(lo)
	return false
}

// SetFenced marks a PhasedWaiter as NewReader does for a ring with light
// commits.
func SetFenced(w *PhasedWaiter) { w.fenced.Store(true) }

// Sleepers reports how many goroutines are parked on a PhasedWaiter's own
// channels.
func Sleepers(w *PhasedWaiter) int { return int(w.sleepers.Load()) }

// RefuseMembarrier makes every later membarrier fail, as a seccomp filter
// installed after the first ring would. Process-wide and for good: tests that
// call it run in a child process.
var RefuseMembarrier = refuseMembarrier

// LightRevoked reports whether a refused membarrier has turned light stores
// off (new rings) and fenced (rings already made).
var LightRevoked = lightRevoked

// LightAvailableNow reports whether a ring made now may use light stores.
var LightAvailableNow = lightAvailable

// SequenceOf returns the next sequence r will read: everything below it is released.
func SequenceOf(r *Reader) int64 { return r.seq.v.Load() }

// WaiterOf returns what r sleeps on.
func WaiterOf(r *Reader) Waiter { return r.waiter }
