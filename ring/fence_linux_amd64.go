//go:build gc && !race && !loopyring_fenced

package ring

import (
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"
)

// Light stores. A publisher's Commit is one store of the cursor, and by
// sync/atomic that store is an XCHG on amd64: a full fence, which waits for
// every earlier store to leave the core. The earlier stores are the slot
// writes, to lines the readers last held, so each commit waits out those
// transfers one after another; with no fence they overlap. The same goes for
// the store a claim makes. On amd64 every plain store already has release
// order (x86-TSO never makes a store visible before an earlier one), and the
// gc compiler keeps memory operations in program order, so a plain store of
// the cursor publishes the slot writes before it just as well; what it lacks
// is the store→load order that Dekker's handshakes need (a claim against
// Close, a commit against a parking reader). The side that sleeps or closes
// supplies it instead with heavyFence, a membarrier(2) that makes every running
// thread of the process execute a full barrier: Close of a single-publisher
// ring (several publishers claim with compare-and-swaps), a parking
// PhasedWaiter only once it has slept a while unwoken (PhasedWaiter.settle).
// A kernel that refuses the barrier later on turns light stores off for good,
// see revokeLight. So a busy publisher pays no locked instruction per claim or
// commit, and the price is a system call, and an interrupt of every other CPU
// running one of the process's threads, per Close and per sleep that outlasts
// the settling time; the README's Performance section has what that bought on
// the development machine.
//
// Two assumptions under this are the compiler's and the standard library's,
// not the language's, and tests pin them: that gc emits storePlain's store as
// one 8-byte store in program order between the slot writes and the loads
// after it (TestLightStoreOrder, which disassembles the claim and the commit),
// and that atomic.Int64 is one int64 at offset 0 (TestAtomicInt64Layout; the
// cast is in sequence.go).
//
// The race detector does not see these stores as synchronization, so race
// builds use the fenced ones (fence_other.go), as do other platforms, other
// compilers and builds with the loopyring_fenced tag.

// membarrier(2) commands.
const (
	membarrierQuery                    = 0
	membarrierPrivateExpedited         = 1 << 3
	membarrierRegisterPrivateExpedited = 1 << 4
)

// lightAvailable reports whether new rings may use light stores: the kernel
// offers the private expedited membarrier, the registration it needs
// succeeded, a first barrier went through, and no barrier has been refused
// since (see revokeLight). Decided by the first call, from New: once the
// process has several threads, registering waits for an RCU grace period,
// which programs that import ring without making one should not pay at
// start-up.
func lightAvailable() bool {
	membarrier.once.Do(func() { membarrier.ok = registerMembarrier() })
	return membarrier.ok && !revoked.v.Load()
}

var membarrier struct {
	once sync.Once
	ok   bool
	// refuse makes every barrier fail as a seccomp filter would; set only by
	// tests, through refuseMembarrier.
	refuse atomic.Bool
}

// registerMembarrier asks the kernel for the private expedited membarrier and
// tries one barrier: a filter that lets the registration through but not the
// barrier is found here, where falling back to fenced stores costs nothing.
func registerMembarrier() bool {
	mask, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierQuery, 0, 0)
	if errno != 0 || mask&membarrierPrivateExpedited == 0 {
		return false
	}
	_, _, errno = unix.Syscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
	return errno == 0 && barrier() == 0
}

// barrier runs the private expedited membarrier.
func barrier() unix.Errno {
	if membarrier.refuse.Load() {
		return unix.EPERM
	}
	_, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierPrivateExpedited, 0, 0)
	return errno
}

// refuseMembarrier makes every later membarrier fail, as a seccomp filter
// installed after the first ring would. For tests; exported by export_test.go.
func refuseMembarrier() { membarrier.refuse.Store(true) }

// heavyFence returns once every running thread of the process has executed a
// full memory barrier: a light store made before a thread's barrier is then
// visible to every load, and a load after that barrier sees every store made
// before heavyFence was called. Only rings that use light stores call it, so
// lightAvailable has returned true before. If the kernel refuses the barrier,
// revokeLight provides as much by other means, once, after which heavyFence
// has nothing left to do.
func heavyFence() {
	if revoked.done.Load() {
		return // no light store is left unfenced: see revokeLight
	}
	if barrier() != 0 {
		// The registration succeeded, so only a seccomp filter installed
		// since (perhaps on this thread only), or the kernel, can refuse.
		revokeLight()
	}
}

// revoked records that a membarrier was refused after light stores were in
// use. v is written once, by revokeLight, and read after every light store and
// by every New; done is written once, after v, and read by every heavyFence.
// v sits alone on its line, which every publisher reads and nobody writes.
var revoked struct {
	_    cpu.CacheLinePad
	v    atomic.Bool
	_    cpu.CacheLinePad
	once sync.Once
	done atomic.Bool
}

// revokeLight is heavyFence's way out when the kernel refuses the barrier:
// panicking there (in Close, or in a waiter about to sleep) would take the
// process down over a barrier that light stores need only because they
// skipped a fence, and going on without it could lose an entry or a wakeup. So
// it makes light stores unnecessary instead, at once and for good:
//
//   - New rings no longer use them (lightAvailable reports false).
//   - Every light store of a ring already made loads revoked.v after it
//     stores (storeLight). One that finds it set follows its store with
//     p.Add(0): a read-modify-write that changes nothing but, like every
//     sync/atomic operation, is sequentially consistent, so the stored
//     value takes part in the total order of atomic operations exactly as
//     p.Store's would, and Dekker's handshakes hold with no heavy fence.
//   - A light store whose load of revoked.v found it unset came before
//     revoked.v.Store(true) in that total order, so its thread had made the
//     store before the world is stopped below. Stopping the world (here by
//     runtime.ReadMemStats) returns only once every goroutine has been taken
//     off its thread, or was off it already, and the runtime does that with
//     atomic operations (locked instructions on amd64, each a full barrier)
//     on that same thread, after the store in its program order: the store is
//     then visible to every thread. (The Go memory model does not speak of
//     stopping the world; like the light stores themselves this rests on
//     x86-TSO and on the gc toolchain, which this file's build line demands.)
//
// Once the world has stopped, every light store is visible to every thread or
// will be followed by its fence, which is all heavyFence provided, and
// heavyFence becomes a no-op (revoked.done). The Close or settling waiter that
// met the refusal goes on from there as it would after a membarrier; one that
// meets it while another is stopping the world waits in once.Do until that is
// done, so none goes on early. Nothing is lost; what it costs is one stop of
// the world and, from then on, a locked instruction per light store, which is
// what fenced stores cost.
func revokeLight() {
	revoked.once.Do(func() {
		revoked.v.Store(true)
		runtime.ReadMemStats(new(runtime.MemStats))
		revoked.done.Store(true)
	})
}

// lightRevoked reports whether revokeLight has run; for tests.
func lightRevoked() bool { return revoked.done.Load() }

// storeLight stores v in p with release order and no fence: a goroutine that
// loads v from p sees every store made before, but a load made after
// storeLight may complete before the store is visible to other cores. Once
// light stores are revoked it adds the fence (see revokeLight).
func storeLight(p *atomic.Int64, v int64) {
	storePlain(p, v)
	if revoked.v.Load() {
		p.Add(0)
	}
}
