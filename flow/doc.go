// Package flow builds typed dataflow graphs and runs them on rings and event loops.
//
// A graph is made of levels. Each level has a typed input, a typed output and n stages; each
// stage publishes into its own ring ([ring.Buffer]) and runs in one of two modes (Mode):
// dedicated, on its own OS-locked goroutine sleeping in its own event loop ([poller.Loop]),
// for hosts where every stage can own a core; or shared, as a goroutine parked in the Go
// runtime (a shared source keeps its event loop and sleeps there), for hosts with fewer
// cores than stages. The default, Auto, picks dedicated when
// every stage of the graph can have an allowed CPU of its own. The builder is fluent and
// typed with Go 1.27 generic methods, so every edge is checked by the compiler.
//
// # Usage
//
// A level is a typed value, built without a graph: Level makes one, and Then (and the other
// Fragment methods) chain more, into a Fragment that any number of graphs apply with Via.
//
//	serve := flow.Level[[]byte, Request](2, parse, flow.Name("parse")).
//		KeyBy(func(r Request) uint64 { return r.Key }).
//		Then[Response](4, handle, flow.Name("work"))
//
//	g := flow.New()
//	in := flow.Input[[]byte](g, flow.Name("requests"))
//	in.Via(serve).Sink(2, reply, flow.Name("reply"))
//	if err := g.Start(ctx); err != nil { ... } // every build problem, at once
//	in.Publish(ctx, msg)
//	err := g.Stop() // drains: nothing committed is lost
//
// Fragment.Run runs a fragment alone, for its tests. Levels come from Input (external
// publishers), Source (stages that do their own I/O in their loop), fragments, and the
// methods of Stream, which a fragment mirrors: Then, ThenErr, Filter (a filter-map), Expand,
// ExpandErr, ThenBatch, Stateful, Sink, SinkErr, SinkBatch, StatefulSink, Phase, PhaseErr and
// PhaseBatch. Attaching two levels to one stream fans out
// (each sees every entry); Merge fans in. The next level divides what it reads among its
// stages by shared work (the default: each entry to exactly one stage), by key (KeyBy: equal
// keys reach the same stage), by an explicit partition (PartitionBy: the function names the
// stage) or by broadcast (every stage sees every entry).
//
// Phases run handlers over the entries of an upstream level's rings in place, in dependency
// order, without copying: two phases on one stream run in parallel, and Merge of their
// streams waits for both, which makes a diamond. A phase may write to an entry only where
// nothing that reads the same rings concurrently reads what it writes: parallel phases, and
// levels attached to the phase's input stream rather than to its output (Then, Filter,
// Expand and Sink receive entries by value, so they read every field).
//
// # Stages, their loops and their state
//
// User code reaches its stage through one handle, *Stage: Emitter.Stage, Batch.Stage, the
// Init of a Stateful level, and the SourceStage a source gets all lead to it. It names the
// stage (Index, Level, Mode), requests a stop (RequestStop, Stopping), and gives a dedicated
// stage's event loop (Loop), on which every level kind may register fds and timers; their
// callbacks run on the stage's goroutine, between batches and while it waits. A shared
// processing or sink stage has no loop: a level that needs one asks for
// StageMode(Dedicated). A source has one in either mode.
//
// Stateful and StatefulSink levels give each stage a state of its own, made by Init when the
// graph starts and handed to every call, and an End hook that runs once the stage's inputs
// are drained and may still emit: per-stage aggregates need no lock and no index by stage.
//
// # Concurrency
//
// Each stage's function runs on that stage's goroutine only, one entry (or batch) at a time;
// different stages of a level run in parallel. An entry's publication by an upstream stage
// happens before any downstream function observes it; a phase's return for an entry
// happens before any later phase or level observes that entry. Every call of a stage's
// function happens before Wait (or Stop) returns, so state a function kept per stage may be
// read after Wait without further synchronization. Publisher methods are safe from any
// goroutine. Start, Stop, Wait, Stats, String and DOT are safe from any goroutine;
// the building methods are not and must finish before Start: adding a level to a graph that
// has started panics.
//
// An idle stage may spin for a moment (Spin), but only while the process has a spare core
// (SetSpinCores): on a host with fewer cores than running stages nobody spins. Then it
// sleeps and costs no CPU: a dedicated stage in its event loop, woken by one write to its
// wake fd only if it is asleep; a shared stage parked in the Go runtime, woken without a
// system call (a shared source sleeps in its event loop, as a dedicated one does, from a
// goroutine that is not locked). A stage whose output ring is full sleeps the same way until a reader releases
// space. A busy stage commits its outputs as it goes but may defer waking a sleeping reader
// until it goes idle, blocks, has published a quarter ring, or ends a batch 100 µs after the
// first deferred wake; so a stage's function must not wait for a later level to process the
// stage's own earlier outputs. The mode changes what a hop costs, never the contract: order,
// delivery, drain and errors are the same in both.
//
// A dedicated stage's locked thread runs Go code only while it holds one of the runtime's
// GOMAXPROCS Ps, so a graph with more dedicated stages than GOMAXPROCS would have woken
// stages wait for a P while cores sit idle. Start raises GOMAXPROCS by the graph's
// dedicated stages while the graph runs, and the last running graph to stop restores the
// value it found; the kernel then shares the cores among the stage threads. Shared stages
// raise nothing. FixedGOMAXPROCS leaves GOMAXPROCS alone. A GOMAXPROCS set by the program
// while graphs run is overwritten when they stop.
//
// # Lifecycle and errors
//
// Start validates the graph and reports every problem in one error (a level with fewer than
// one or more than MaxStages stages, a bad capacity or option, an input fed by nothing, an
// output nothing reads, duplicate names, misuse such as a nil function or fragment), then
// builds and starts it. The builder cannot make a cycle: a level attaches only to levels
// that exist already. Stop, or the cancellation of Start's
// context, drains: inputs and sources stop first, every committed entry flows through the
// rest of the graph, and every stage and loop is released. A graph runs once. From inside a
// stage's function, use RequestStop: Stop and Wait there would wait for the calling stage
// itself, so they return ErrInsideStage instead.
//
// A function's error or panic is reported as a *StageError naming the level and stage, and
// handled by the level's policy: StopGraph (the default) stops the graph and makes it the
// error of Wait; Skip counts it; ErrorSink(fn) hands it to fn. Either way the failing
// batch's input is released and its outputs so far are committed, so nothing stalls.
//
// # Guarantees
//
// Each promise names the tests that check it.
//
//   - Every entry a publisher committed (Publish returned nil) is delivered: exactly once to
//     one stage of each level that reads it under shared, key or partition routing, and once
//     to every stage under broadcast (TestRandomGraphs, the routing tests, FuzzRouting).
//
//   - Per upstream stage, entries reach a downstream stage in the order they were published;
//     under key routing, entries with equal keys from one upstream stage keep their order
//     (TestRandomGraphs, TestKeyRoutingKeepsPerKeyOrderOnOneStage).
//
//   - Stop returns only after every committed entry has been processed, End hooks included
//     (TestStopDrainsWhilePublishersPublish, TestStatefulHooksRunOncePerStage).
//
//   - A publish into a stopped graph returns ErrStopped; it never hangs and never drops an
//     entry silently (TestStopRacesManyPublishers, TestCancelMidRunRacesManyPublishers,
//     TestStopReleasesEveryBlockedPublisher).
//
//   - Under every error policy a failure never stalls the graph: a per-entry function loses
//     exactly the failing entry, a batch function the rest of the failing batch, and a phase
//     nothing (the entry moves on) (TestRandomFaultsUnderEachPolicy,
//     TestPanicInBatchFunctionReleasesTheBatch).
//
//   - Memory is bounded by the rings: a full ring blocks its publisher, and nothing queues
//     outside them (TestSlowStageBoundsMemory, TestHugeMaxBatchIsBoundedByTheRing).
//
//   - PublishBatch's count is exact: vs[:n] is delivered and vs[n:] is not. An entry a
//     source's Emit accepted is delivered like a published one (TestRandomGraphs).
//
//   - A resource that runs out during Start (descriptors, threads, ring memory, a pin) makes
//     Start return an error naming the level and stage, with everything already made
//     released; an absurd width or size is a build error, not a crash
//     (TestStartOutOfDescriptorsFailsCleanly, TestAbsurdWidthsAreBuildErrors,
//     TestPinFailureStopsTheGraph).
//
//   - When Stop (or Wait) returns, every fd the graph opened is closed. Every dedicated
//     stage's thread is retired: its goroutine ends locked, so the runtime ends the thread
//     rather than reuse it. That happens just after the stage tells the graph it is done, so
//     the thread may outlive Stop's return by a moment (TestStageThreadsAreRetired waits for
//     each one to go). Threads that are not stages' are the runtime's: it keeps idle ones
//     for reuse, up to about the highest GOMAXPROCS a running graph raised it to, so a
//     process's thread count can grow once to that bound and no further
//     (TestNoDescriptorOrThreadLeaks, TestNoLeaksAcrossManyStartStopCycles).
//
//   - A stage function that calls runtime.Goexit (t.FailNow in a callback) fails like one
//     that panics, and the stage carries on: nothing committed is lost
//     (TestGoexitInAStageIsReported, TestGoexitInASourceIsReported, TestErrorSinkGoexit).
//
//   - Completed (of a Publisher or a SourceStage) never counts an entry before every level
//     that reads it, and everything it became, is done with it, and reaches every entry once
//     the levels below have caught up (TestCompletedNeverAheadOfTheSinks,
//     TestCompletedFollowsTheSlowestPath, TestSourceCompleted). It is what a connector
//     acknowledges to its broker.
//
//   - An idle graph costs no CPU in either mode (TestIdleGraphSleeps).
//
//   - Stop and Wait called on a stage's goroutine (any function of a level, a Stateful Init,
//     a source's first statement or its OnStop) return ErrInsideStage instead of waiting for
//     their own stage (TestStopAndWaitFromInsideAStage, TestContractStopFromASource,
//     TestContractStopInsideInit).
//
//   - Every method of Graph, Publisher, Stage and SourceStage answers when called from any
//     callback (a level's function, a Stateful Init or End, an error sink, a source and its
//     OnStop, a loop's timer or fd callback), in either mode; an Emit into a full ring from
//     a loop callback waits for room (TestCallbackEveryMethodFromEveryCallback,
//     TestCallbackStopFromEveryCallback, TestCallbackTimerEmitsIntoAFullRing,
//     TestStatsFromInit).
//
//   - Stats' Handled counts every entry a stage's function was given, those it failed or
//     panicked on included, and Errors each failure; summed over a level it is each entry
//     once under shared, key and partition routing, once per stage under broadcast
//     (TestContractStageErrorOfAPanic, TestStatsHandledCountsEachStagesShare).
//
//   - A key or partition function that panics fails the one entry it was given, at every
//     kind of level, and the rest are delivered (TestPanickingKeyFunctionFailsOneEntry).
//     Every stage of the level evaluates it on every entry, so each stage reports that
//     failure once.
//
// Not promised: order between entries of different upstream stages, or any delivery of an
// entry whose function failed at a level (it goes no further).
//
// The suite runs in each mode (LOOPYRING_FLOW_MODE=dedicated, then =shared), as the README's
// test command does, so every promise is checked in both.
//
// # Publishing into a graph from its own stages
//
// A stage may publish into an Input of its own graph. When that input feeds the stage,
// directly or through other levels, this is a cycle the builder cannot see: the stage holds
// the batch it is processing while it publishes, so once the input ring is full nothing can
// drain it. flow neither detects nor breaks such a cycle, but every publish ends: TryPublish
// returns ErrFull at once, Publish returns ctx.Err() when its context ends, and both return
// ErrStopped once the graph stops, which releases a blocked Publish. A stage that feeds its
// own input should use TryPublish and handle ErrFull, or Publish with a deadline
// (TestStageFeedingItsOwnInput).
package flow
