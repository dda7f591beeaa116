// Package ring is a typed, Disruptor-style ring buffer: pre-allocated slots
// addressed by int64 sequences, claimed and committed by publishers, read in
// batches by readers that gate the publishers, with phases of readers over one
// ring.
//
// # Usage
//
// Build the ring and all its readers first, then publish:
//
//	buf, err := ring.New[Event](1024)
//	parse, err := buf.NewReader()
//	store, err := buf.NewReader(ring.After(parse)) // sees an entry after parse released it
//
//	// publisher
//	lo, err := buf.Claim(ctx, 1)   // blocks while the ring is full
//	*buf.At(lo) = Event{...}       // fill the slot in place
//	buf.Commit(lo, 1)              // publish it and wake the readers
//
//	// reader
//	lo, hi, err := parse.Wait(ctx) // a batch [lo, hi); ErrClosed once drained
//	for s := lo; s < hi; s++ { handle(buf.At(s)) }
//	parse.Release(hi)              // one store lets the next phase (or the publisher) go on
//
// Sequences start at 0, grow without bound and use half-open ranges; slot
// seq lives at index seq & (Cap()-1). By default one goroutine publishes;
// [MultiPublisher] lets many claim and commit concurrently. Readers that no
// other reader depends on gate the publishers: a slot is reused only once all
// of them released it. A ring without readers never blocks its publishers.
//
// Readers take whatever is committed in one range, so a reader that falls
// behind catches up in large batches. A reader that keeps pace would take one
// or two entries at a time from a publisher committing them one by one, and
// pay a cache-line transfer for each; instead, when Wait finds fewer than 32
// entries ready (fewer than MaxBatch or half the ring, if lower), it lingers a
// moment (2µs by default, see [Linger]) and then returns what was committed
// meanwhile. If that moment brought 32 entries or more, the publisher keeps
// pace, and the reader lingers on, a moment at a time, while each brings as
// many, until it has a quarter of the ring (or MaxBatch) or has lingered 32
// moments: on a deep ring a fast publisher then runs far ahead and hands over
// in large batches, while a slow one costs a single moment, as before.
//
// Close stops new claims; readers still receive every claimed slot (a claimed
// range must be committed, even after Close) and then see [ErrClosed] from
// Wait and true from Drained.
//
// # Concurrency
//
// Commit of [lo, hi) synchronizes before any read (TryRead, Wait) that
// observes a cursor >= hi: slot writes made before Commit are visible to the
// reader that gets a range including them. Release(hi) by an upstream reader
// synchronizes before any downstream reader's read that observes it, and
// Release(hi) by a gating reader synchronizes before the publisher's reuse of
// those slots (the Claim whose range wraps onto them). Close synchronizes
// before every claim that fails with ErrClosed and every Drained that reports
// true. Under the race detector, and on every platform but linux/amd64, these
// edges come from sync/atomic alone, so the race detector sees them.
//
// On linux/amd64 (gc, without -race) a single publisher's claims and the
// commits that wake only [PhasedWaiter]s store with plain release stores
// instead of sync/atomic's fenced ones. A fenced store is a locked instruction
// that waits for every earlier store, the slot writes included, to leave the
// core; a plain one lets the slot writes of consecutive commits overlap, and
// its cost moves to the rare sleeper and to Close, below.
// The edges above hold just the same: x86 never makes a store visible before
// an earlier one and the gc compiler keeps stores in program order, so a
// reader that observes the cursor observes the slots. What such a store lacks
// is an ordering against the publisher's next load, which the sleeping side
// restores: Close (of a single-publisher ring; several publishers claim with
// compare-and-swaps), and a PhasedWaiter that has slept 50µs without being
// woken, run membarrier(2), which makes every running thread of the process
// execute a full barrier, and then look again. Build with
// the tag loopyring_fenced to use fenced stores everywhere, or give one ring
// the [Fenced] option (a multi-publisher ring whose readers do not all use
// PhasedWaiters commits with fenced stores anyway, and Fenced lets it lay its
// slots out for them); the ring falls
// back to them by itself if the kernel lacks the membarrier command. If the
// kernel refuses it later (a seccomp filter installed after the first ring),
// nothing panics and nothing is lost: the ring stops the world once, rings
// made after that use fenced stores, and rings already made follow each light
// store with a fence from then on.
//
// Sleeping and waking go through the [Waiter] interface. The ring calls Wake
// after each store that can make a waiter's condition true; the waiter
// announces that it is about to sleep and re-checks its condition. Go's
// sync/atomic operations are sequentially consistent, so this store→load on
// both sides (Dekker's pattern) guarantees that either the waiter sees the new
// state or the waker sees the sleeper: no wakeup is lost, and Wake costs a
// single load while nobody sleeps. (After a plain store the publisher's side
// of the pattern has no fence, so a Wake can be missed; a PhasedWaiter that
// may be woken that way bounds its first sleep and then fences and looks
// again, so such a wake comes late but never goes missing, and only rings
// whose readers without upstreams all use PhasedWaiters commit with plain
// stores.) Commit wakes the readers without
// upstreams; Release wakes the readers that list the releasing reader in
// [After], or the publisher waiter if there are none; Close wakes everyone.
//
// How a goroutine waits is decided in this package, in one place per step:
// [WaitPhases] spins for a while (only while a [SpinBudget] grants a spare
// core) and yields; then the goroutine sleeps, parked in the Go runtime on a
// [PhasedWaiter] (any number of sleepers) or a [Parker] (one), or on any other
// Waiter behind [WaitPhases.Before] (an event loop). The default PhasedWaiter
// lets commits use light stores, and where they do each of its parks starts a
// timer (the settle above), after a yield phase; a Parker costs a fenced commit,
// no timer and no yields, so two goroutines trading single entries hand off on
// one processor as they would through a channel: the choice for a latency-bound
// reader that one goroutine owns. A reader's [Linger] is the
// one pause that happens after data arrives rather than before. A publisher
// that has more work at hand may defer the wake: [Buffer.CommitQuiet]
// publishes without waking and [Buffer.WakeReaders] wakes later, so that a
// reader wakes once to a batch rather than once per commit. flow builds its
// stages from these pieces and decides only when to pay a deferred wake.
//
// A single publisher blocked on a full ring waits until a quarter of the ring
// (or the n slots it asked for, if more) is free, and gating readers wake it
// only once they have released that far: publisher and readers then trade
// large batches rather than a wakeup per released slot. A publisher that
// reserved more slots than it filled gives the rest back with Unclaim.
//
// A Buffer is safe for concurrent use as documented per method: Claim,
// TryClaim and Commit from the one publisher (or from any goroutine with
// MultiPublisher), Close, Closed, Len and Cap from any goroutine. A Reader's
// TryRead, Wait and Release belong to one goroutine at a time.
package ring
