// Package affinity finds the CPUs a process may use, pins OS threads to them,
// and plans which CPU each stage of a pipeline should run on.
//
// It knows nothing of rings or graphs: a plan is a list of CPU numbers per
// level, and the caller decides what runs there.
//
// # Usage
//
// Plan first, on any goroutine:
//
//	topo, err := affinity.ReadTopology() // the allowed CPUs and their cores
//	if err != nil { ... }                // errors.ErrUnsupported off Linux
//	plan, err := topo.Plan(affinity.Spread, []int{2, 4, 1}, nil)
//	if err != nil { ... }
//	if plan.Wrapped { ... }              // more stages than CPUs: some share
//
// Then pin from inside each stage's own goroutine, which must stay locked to
// its OS thread for as long as it is pinned, because affinity belongs to the
// thread and not to the goroutine:
//
//	go func() {
//		runtime.LockOSThread()
//		defer runtime.UnlockOSThread()
//		saved, err := affinity.Current()
//		...
//		if err := affinity.Pin(plan.CPUs[level][stage]); err != nil { ... }
//		defer affinity.Pin(saved...) // before the unlock: hand back a clean thread
//		runStage()
//	}()
//
// A goroutine that exits while still locked takes its thread with it, so
// skipping the unlock (and the restore) is also a correct way to clean up.
//
// [ParsePolicy] and the text methods of [Policy] let a flag choose the policy
// (flag.TextVar). [LoadTopology] reads a topology from any fs.FS laid out like
// /sys/devices/system/cpu, and a [Topology] may also be built by hand, to plan
// for a machine other than this one.
//
// [SetTimerSlack] tunes another property of the process's threads: how late the
// kernel may end their timed sleeps, which include the Go scheduler's short
// back-offs. A server that answers one request at a time through several
// goroutines on a host with few cores may call it once, early in main.
//
// # Platforms
//
// Pinning uses sched_setaffinity and is Linux-only; elsewhere [Allowed], [Pin],
// [Current], [ReadTopology] and [SetTimerSlack] return errors wrapping
// errors.ErrUnsupported.
// [Online], [LoadTopology] and planning work everywhere.
//
// # Concurrency
//
// All functions are safe for concurrent use. [Pin] and [Current] act on the
// calling OS thread only: a Pin on one thread is never observed by [Current]
// on another. [SetTimerSlack] acts on every thread; two calls at once leave
// each thread with one of their values. The set returned by [Allowed] is read
// once, while the package is initialised, and is the same for every caller
// afterwards. A [Topology] and a [Plan] are plain values; Plan does not modify
// its receiver, so one Topology may be planned from many goroutines at once.
package affinity
