package poller

// The sleep handshake. The owner goroutine moves between two states, and
// wakers move the loop from one sleeping state to woken:
//
//	stateAwake    --owner: about to block-->   stateSleeping
//	stateSleeping --first Wake (CAS)-->        stateWoken      (this Wake writes)
//	stateSleeping, stateWoken --owner: back from the block--> stateAwake
//	any           --Close-->                   stateClosed
//
// Before it blocks, the owner stores stateSleeping and then re-checks what it
// waits for (the Wait condition, the Stop flag, the context). A waker first
// publishes what it has to say (its data, the Stop flag) and then loads the
// state. sync/atomic is sequentially consistent, so this is Dekker's handshake:
// of the two store-then-load sequences one comes first in the single total order,
// and either the owner's re-check sees the waker's data (and does not block) or
// the waker's load sees stateSleeping (or stateWoken, whose writer already wrote)
// and writes to the wake descriptor, which ends the block however late it
// arrives. No wakeup is lost between the re-check and the system call.
//
// Rejected: a write on every Wake (a system call per publish on the hot path,
// about a microsecond, where the load costs nanoseconds), and a mutex with a
// condition variable (it cannot wait on descriptors and timers at the same time,
// which is the point of an event loop).
const (
	stateAwake int32 = iota
	stateSleeping
	stateWoken
	stateClosed
)

// Wake ends the loop's current or imminent sleep. Any goroutine may call it. It
// writes to the wake descriptor only when the loop is asleep (or committed to
// sleep) and no other Wake has written since; on an awake loop it is one atomic
// load. A Wake is not remembered by an awake loop: publish the state the loop
// must notice before calling Wake.
func (l *Loop) Wake() {
	if l.state.Load() == stateSleeping {
		l.wakeSlow()
	}
}

// wakeSlow performs the write for the Wake that wins the CAS. Being outside Wake
// keeps Wake small enough to inline.
func (l *Loop) wakeSlow() {
	// writers is raised before the CAS so that Close, which stores stateClosed
	// and then waits for writers to reach zero, either sees this waker or makes
	// its CAS fail.
	l.writers.Add(1)
	if l.state.CompareAndSwap(stateSleeping, stateWoken) {
		// Counted before the write, so that an owner woken by it already sees
		// the count in Stats.
		l.wakeups.Add(1)
		// A write can only fail if the descriptor is full (eventfd counter or
		// pipe buffer), which means a wakeup is already pending.
		_ = l.writeWaker()
	}
	l.writers.Add(-1)
}

// Stop makes Run return nil promptly, waking the loop if it sleeps. Any
// goroutine may call it. The request is sticky: a Stop that comes before Run
// starts (or while Run dispatches) is seen at Run's next check, and Run clears it
// when it returns. A Poll that sleeps is woken by it and returns, as after a
// Wake. Stop does not end a Wait: Wait returns only when its condition holds
// or its context is done.
func (l *Loop) Stop() {
	l.stop.Store(true)
	l.Wake()
}
