// Package loopyring builds typed dataflow graphs that run at the speed of shared
// memory on many-core hosts.
//
// A graph is a chain (or a DAG) of levels. Each level has a typed input, a typed
// output and n stages. A stage is one worker of a level: it runs on its own
// OS-locked goroutine, owns an event loop (epoll on Linux, kqueue on the BSDs and
// macOS) in which it sleeps when idle, and publishes its output into its own ring
// of pre-allocated entries. Downstream stages read those rings through barriers
// that gate the publisher, so no entry is overwritten before every reader that
// must see it has released it.
//
// # Vocabulary
//
//   - Level: one step of the graph with a typed input and output, run by n stages.
//   - Stage: one worker of a level, with its own goroutine, event loop and ring.
//   - Ring: a power-of-two buffer of entries addressed by 64-bit sequences.
//     Publishers claim, fill in place and commit; readers wait, process a batch
//     and release it with one store.
//   - Barrier: what a reader waits on, the publisher's cursor and any set of
//     upstream readers of the same ring. Barriers make phases (and diamonds of
//     phases) over one ring possible without copying entries.
//
// # Packages
//
//   - [github.com/loopyring/loopyring/ring]: the typed ring buffer, sequences,
//     publishers, readers, barriers and the wait interface.
//   - [github.com/loopyring/loopyring/poller]: one event loop per thread with
//     coalesced wakeups, fd readiness and timers.
//   - [github.com/loopyring/loopyring/affinity]: CPU sets, pinning and
//     placement plans.
//   - github.com/loopyring/loopyring/flow: the typed fluent graph builder and
//     the stage runtime.
//
// The module targets Go 1.27: generic methods make the fluent chain typed end to
// end, so a mismatched edge is a compile error.
package loopyring
