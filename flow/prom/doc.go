// Package prom exports the statistics of a flow.Graph as Prometheus metrics.
//
// It is a module of its own (github.com/loopyring/loopyring/flow/prom), so that the library
// does not require client_golang: only a program that imports this package does.
//
// # Usage
//
//	g := flow.New()
//	// ... build the graph ...
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(prom.NewCollector(g, "orders"))
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//	err := g.Start(ctx)
//
// The collector may be registered before or after Start. Until Start it exports nothing;
// after Stop it keeps exporting the graph's final counts, so unregister it when the graph is
// discarded.
//
// # Metrics
//
// Every series carries the labels graph (the name given to NewCollector), level (the
// level's name, as flow.Name set it) and stage (the stage's index within its level). There is
// one series of each per stage of every level that has stages; input levels have none, since
// their publishers are the caller's goroutines.
//
//	loopyring_stage_entries_in_total      counter  flow.StageStats.In
//	loopyring_stage_entries_handled_total counter  Handled
//	loopyring_stage_entries_out_total     counter  Out
//	loopyring_stage_batches_total         counter  Batches
//	loopyring_stage_errors_total          counter  Errors
//	loopyring_stage_blocked_claims_total  counter  Blocked
//	loopyring_stage_sleeps_total          counter  Sleeps
//	loopyring_stage_wakeups_total         counter  Wakeups
//	loopyring_stage_busy_seconds_total    counter  Busy, in seconds
//	loopyring_stage_queue_length          gauge    Queue
//	loopyring_stage_queue_capacity        gauge    Capacity
//	loopyring_stage_info                  gauge    1, with the labels mode and cpu
//
// entries_in counts every entry of the input ranges a stage read, including those its
// level's routing gave to other stages: each stage of a level of width w reads all of its
// inputs, so under any routing the sum over the level is w times the entries that reached it.
// A phase is the exception: each of its rings is read by one of its stages (see flow's
// Phase), so the sum over a phase is the entries that reached it, once.
// entries_handled counts the stage's own share, what its function was given: summed over a
// level it is each entry once (shared, key and partition routing) or once per stage
// (broadcast), so it shows the skew between a level's stages and the level's throughput.
//
// The queue gauges are exported only for stages that own a ring: sinks and phases have
// none, and a ratio queue_length / queue_capacity is then defined wherever it exists.
//
// Mode and CPU are fixed for a stage's life, so they are labels of one info gauge
// (mode="dedicated" or "shared", cpu="" when the stage is not pinned) rather than of every
// series: a dashboard joins them where it needs them, as in
// loopyring_stage_busy_seconds_total * on(graph, level, stage) group_left(mode) loopyring_stage_info.
//
// # Concurrency
//
// A Collector is safe for concurrent scrapes. Nothing is recorded on the graph's path: every
// scrape makes one Graph.Stats call, which holds the graph's lock while it loads each stage's
// counters (a few atomic loads per stage) and so waits for, and briefly delays, a Start in
// progress; the metrics are then built from that snapshot. The counters of different stages
// are loaded one after another while the graph runs, so one scrape is not an instant of the
// whole graph: a downstream stage may show entries its upstream's counters do not yet.
package prom
