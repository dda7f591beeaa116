package ring

import "time"

// An Option configures a [Buffer] in [New]. Options are values rather than
// setters so that a ring's shape is fixed at construction: nothing about
// publishing can change once slots are handed out.
type Option struct {
	apply func(*bufferConfig)
}

type bufferConfig struct {
	multi     bool
	pubWaiter Waiter
	start     int64
	fenced    bool
}

// MultiPublisher lets any number of goroutines claim and commit concurrently.
// Without it the ring assumes one publishing goroutine at a time, which lets
// Claim avoid contention and Commit be a single store.
func MultiPublisher() Option {
	return Option{func(c *bufferConfig) { c.multi = true }}
}

// PublisherWaiter sets what a Claim sleeps on while the ring is full. Gating
// readers wake it when they release. The default is a new [PhasedWaiter]; a nil
// w keeps the default.
func PublisherWaiter(w Waiter) Option {
	return Option{func(c *bufferConfig) { c.pubWaiter = w }}
}

// withStart makes the first sequence start instead of 0. Tests use it to run
// near the top of the sequence space; exported to them by export_test.go.
func withStart(start int64) Option {
	return Option{func(c *bufferConfig) { c.start = start }}
}

// Fenced makes every publishing store (a claim's, a commit's) a sequentially
// consistent atomic store, as on platforms without light stores (see the package
// doc), and Close then never needs a process-wide barrier. Commits are fenced anyway
// where a reader without upstreams (no [After]) waits on anything but a
// [PhasedWaiter] (a [Parker], an event loop); saying so up front lets a
// multi-publisher ring keep each slot's availability mark beside its entry, where a
// fenced commit costs less than in a separate array. The mark is a word per slot
// either way, but beside the entry it also rounds the slot up to a multiple of 8
// bytes (a 1-byte entry takes 16 bytes instead of 9). Tests also use it to run both
// ways on one machine.
func Fenced() Option {
	return Option{func(c *bufferConfig) { c.fenced = true }}
}

// A ReaderOption configures a [Reader] in [Buffer.NewReader].
type ReaderOption struct {
	apply func(*readerConfig)
}

type readerConfig struct {
	after     []*Reader
	waiter    Waiter
	maxBatch  int
	batchSet  bool
	linger    time.Duration
	lingerSet bool
}

// After makes the reader a downstream phase: it sees a sequence only once every
// upstream reader has released it. Upstream readers must belong to the same
// ring. Several After options accumulate.
func After(upstream ...*Reader) ReaderOption {
	return ReaderOption{func(c *readerConfig) { c.after = append(c.after, upstream...) }}
}

// ReaderWaiter sets what the reader sleeps on. It is also what publishers (for a
// reader without upstreams) or upstream readers Wake when the reader may have
// new work, so a stage passes its event loop here. The default is a new
// [PhasedWaiter]; a nil w keeps the default.
func ReaderWaiter(w Waiter) ReaderOption {
	return ReaderOption{func(c *readerConfig) { c.waiter = w }}
}

// MaxBatch bounds the ranges returned by [Reader.TryRead] and [Reader.Wait] to
// n entries (default: the ring's capacity). n < 1 makes NewReader fail.
func MaxBatch(n int) ReaderOption {
	return ReaderOption{func(c *readerConfig) { c.maxBatch, c.batchSet = n, true }}
}

// Linger sets how long [Reader.Wait] pauses before it returns a short range,
// found once the reader has caught up with what was committed: fewer than 32
// entries, or than MaxBatch or half the ring if either is lower. After the
// pause (cut short if Wait's context ends) Wait returns everything committed by
// then, unless the pause brought a full batch (32 entries, or the lower bound
// above): the publisher then keeps pace, and Wait pauses again, d at a time,
// for as long as each pause brings a full batch, until the range holds a
// quarter of the ring (or MaxBatch entries) or Wait has paused 32 times. So a
// Wait pauses at most 32d, and a publisher slower than a full batch per d
// costs it a single pause. A publisher committing entries one at a time then
// hands them over in batches, which on a busy ring is worth far more than the
// pauses cost; an idle ring is unaffected, since Wait sleeps until there is
// something to read and lingers only after that. d = 0 turns lingering off,
// for readers that value each entry's latency above throughput; a negative d
// makes NewReader fail. The default is 2µs, or 0 when the machine has one CPU
// or GOMAXPROCS is 1 when the reader is made (the pause spins, and a spinning
// reader that shares the only processor with its publisher delays it). TryRead
// never lingers.
func Linger(d time.Duration) ReaderOption {
	return ReaderOption{func(c *readerConfig) { c.linger, c.lingerSet = d, true }}
}

// lingerBatch is the range below which Wait lingers: ranges this long already
// spread the cache-line transfers of a hand-over over enough entries. A
// shorter threshold measured slower and a longer one no faster (the README's
// Performance section has the comparison).
const lingerBatch = 32

// lingerSteps bounds a reader's lingering: Wait pauses at most this many times
// its Linger before it returns a range.
const lingerSteps = 32

// defaultLinger is long enough for a publisher to commit a few dozen entries
// one at a time and short next to a sleeping reader's wakeup, which takes a
// scheduler's or the kernel's hand-off.
const defaultLinger = 2 * time.Microsecond
