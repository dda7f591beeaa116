//go:build gc && !race && !loopyring_fenced

package ring

import (
	"sync"
	"sync/atomic"
	"unsafe"

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
// thread of the process execute a full barrier: Close always, a parking
// PhasedWaiter only once it has slept a while unwoken (PhasedWaiter.settle).
// Measured on 2 vCPUs (AMD EPYC), 12 alternated runs against the fenced code
// (a compare-and-swap per claim, an XCHG per commit): one entry per claim,
// SPSC 26.7 → 19.5 ns per entry, multicast to 3 readers 36.9 → 26.2 ns; 16
// per claim, SPSC 5.1 → 4.3 ns, 4 publishers 11.1 → 6.9 ns.
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

// lightAvailable reports whether rings may use light stores: the kernel offers
// the private expedited membarrier and the registration it needs succeeded.
// Decided by the first call, from New: registering takes milliseconds once the
// process has several threads (the kernel waits for an RCU grace period), which
// programs that import ring without making one should not pay at start-up.
func lightAvailable() bool {
	membarrier.once.Do(func() { membarrier.ok = registerMembarrier() })
	return membarrier.ok
}

var membarrier struct {
	once sync.Once
	ok   bool
}

func registerMembarrier() bool {
	mask, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierQuery, 0, 0)
	if errno != 0 || mask&membarrierPrivateExpedited == 0 {
		return false
	}
	_, _, errno = unix.Syscall(unix.SYS_MEMBARRIER, membarrierRegisterPrivateExpedited, 0, 0)
	return errno == 0
}

// heavyFence returns once every running thread of the process has executed a
// full memory barrier: a light store made before a thread's barrier is then
// visible to every load, and a load after that barrier sees every store made
// before heavyFence was called. Only rings that use light stores call it, so
// lightAvailable has returned true before.
func heavyFence() {
	if _, _, errno := unix.Syscall(unix.SYS_MEMBARRIER, membarrierPrivateExpedited, 0, 0); errno != 0 {
		// The registration succeeded, so only a seccomp filter installed
		// since, or the kernel, can make it fail; going on without the
		// barrier could lose entries or wakeups.
		panic("ring: membarrier failed after it was registered: " + errno.Error())
	}
}

// storeLight stores v in p with release order and no fence: a goroutine that
// loads v from p sees every store made before, but a load made after
// storeLight may complete before the store is visible to other cores.
func storeLight(p *atomic.Int64, v int64) {
	// atomic.Int64's only field with a size is its value, at offset 0.
	*(*int64)(unsafe.Pointer(p)) = v
}
