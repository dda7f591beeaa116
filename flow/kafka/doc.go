// Package kafka connects flow graphs to Apache Kafka: Source consumes topics as a consumer
// group and publishes their records into a graph, and Sink produces a stream's entries, at
// least once; Transact joins the two into a graph whose output is exactly once for readers
// of committed records. It is a module of its own (github.com/loopyring/loopyring/flow/kafka),
// so that the library does not require franz-go (github.com/twmb/franz-go), the client it
// is built on: only a program that imports this package does.
//
// # Usage
//
//	g := flow.New()
//	orders := kafka.Source(g, 2, kafka.SourceConfig{
//		Brokers: []string{"kafka:9092"},
//		Topics:  []string{"orders"},
//		Group:   "billing",
//	}, decodeOrder, flow.OnError(flow.Skip), flow.Name("decode"))
//	invoices := orders.KeyBy(func(o Order) uint64 { return o.Customer }).
//		Then(4, bill)
//	kafka.Sink(invoices, 1, kafka.SinkConfig{
//		Brokers: []string{"kafka:9092"},
//		Topic:   "invoices",
//	}, encodeInvoice)
//	if err := g.Start(ctx); err != nil { ... }
//	...
//	err := g.Stop() // drains, commits what the graph finished, leaves the group
//
// Source adds two levels: n consumers, each a member of the group with a client of its own,
// and n stages that decode their records, to which the records are routed by partition. A
// partition's records therefore reach the decoding level, and any level after it that
// routes by partition or key (PartitionBy, KeyBy), in offset order. The decoding level takes
// the caller's options: its error policy decides what a record that fails to decode
// becomes (Skip counts it and moves on; StopGraph stops the graph).
//
// # At least once
//
// A record's offset is committed only after every level that must see the record has
// finished with it, and with everything it became, down to the sinks: whether it was
// handled, filtered out, skipped by an error policy, expanded into several entries or
// broadcast to every stage of a level. The graph counts this for the connector:
// flow.SourceStage.Completed says how many of the entries a source stage emitted are
// finished, as a prefix in emission order.
//
// Each consumer keeps, in emission order, runs of consecutive offsets of one partition
// (a fetch of a partition is usually one run). To commit, it reads Completed, drops the runs
// below it, and commits for each partition one past its last finished record, with that
// record's leader epoch. Commits are made by one goroutine per consumer, every
// CommitInterval, one at a time, so that none waits on the network in the stage's loop;
// Completed is computed on demand by walking the levels below the source, so it is read at
// the pace of commits, not per record. It moves on as the levels below catch up with the
// points it sampled at earlier commits, so the committed positions trail the graph by about
// what its rings held a commit or two ago.
//
// What the graph finished is committed, whatever the records became, with one exception:
// once a level other than the consumers fails under StopGraph, nothing more is committed.
// Completed counts a failed entry as finished (nothing stalls behind it), but a record that
// failed under StopGraph was not handled, so the records from the last commit on are read
// again when the group next reads the partition. Under Skip and ErrorSink a failed record is
// finished and is committed past.
//
// A level that keeps what an entry contributed in its state and emits it later (a Stateful
// level's End, or a timer of its loop) has finished the entry, as Completed counts it, once
// its function returns: the entry is committed past while its contribution is still held,
// and a crash loses it. At least once holds for such state only where it is written out
// before the function returns (a StatefulSink that stores each batch's effect).
//
// Records are read twice only after a crash or a failure under StopGraph (what was finished
// since the last commit), after the loss of partitions (see below), and after a revoke
// whose drain did not finish in time. No record is lost: a partition's committed position never passes a record the
// graph has not finished.
//
// # Backpressure
//
// Each consumer's client is polled by a goroutine of its own, which hands every poll (at
// most MaxPollRecords records) to its stage, wakes the stage's loop, and polls again only
// once the stage has emitted the whole poll into its ring. A stage whose ring is full
// blocks in Emit until the graph makes room, so its poll goroutine stops polling and the
// client stops fetching once it holds a fetch per broker: nothing is buffered beyond one
// poll and the client's fetch buffers.
//
// # Rebalances
//
// The consumers use franz-go's BlockRebalanceOnPoll: partitions are assigned, revoked and
// lost only between two polls, once the stage has emitted the last one. On a revoke the
// consumer stops taking the revoked partitions, waits until the graph has finished every
// record it emitted from them (for at most half of RebalanceTimeout), commits them (for at
// most a quarter), and only then lets the rebalance go on, so that the partitions' next
// owners start where this graph's work ends. A drain that does not finish in time is
// reported through OnCommit; what was finished is committed, and the rest is read again by
// the next owner. A revoke may come with no partitions at all; it then does nothing.
//
// On lost partitions (the member was dropped from the group: its session expired, or it
// could not take a poll within the rebalance timeout because a level kept its ring full)
// the consumer forgets them without committing: their records still in the graph finish,
// and their next owner reads them again from the last commit.
//
// Stop (or the graph's end) stops polling, waits until the graph has finished what each
// consumer emitted (at most RebalanceTimeout), commits it, and leaves the group. A failed
// final commit is the consuming level's error, so Stop and Wait return it.
//
// # Producing
//
// Sink adds two levels. A producing stage has a client of its own; for each batch the graph
// hands it, it encodes and produces every entry asynchronously and emits one ticket for the
// batch, then takes the next batch without waiting. Stage i of the second level takes stage
// i's tickets in order and returns from each once the broker has acknowledged, or the
// client has failed, every record of its batch. A producing stage's entries are finished
// only when their ticket is, so an entry counts as finished, for Completed and for a
// source's commits, only once the broker has its record; and up to MaxInFlight batches are
// in flight meanwhile, which the client gathers into requests by partition (Linger,
// BatchMaxBytes). A record that fails (its encoding, or its production after the client's
// retries and DeliveryTimeout) fails its ticket under the second level's error policy, the
// one Sink's options set.
//
// # Exactly once
//
// Transact builds a consume, transform and produce graph whose output is exactly once for
// readers that read committed records (kgo.FetchIsolationLevel(kgo.ReadCommitted())):
//
//	kafka.Transact(g, 2, kafka.TransactConfig{
//		Brokers:         []string{"kafka:9092"},
//		Topics:          []string{"orders"},
//		Group:           "billing",
//		TransactionalID: "billing-" + host, // unique per member, kept across restarts
//		Topic:           "invoices",
//	}, decodeOrder, func(orders *flow.Stream[Order]) *flow.Stream[Invoice] {
//		return orders.KeyBy(func(o Order) uint64 { return o.Customer }).Then(4, bill)
//	}, encodeInvoice)
//
// Kafka commits a consumer's offsets inside a producer's transaction, so that the records
// produced from the input and the input's offsets become visible together or not at all
// (franz-go's GroupTransactSession). That needs the records produced in a transaction to be
// exactly those made from the records whose offsets it commits. Transact therefore makes
// the graph one member of the group with one session, which its consuming stage polls and
// its producing stages produce through, and cuts the stream into transactions:
//
//  1. Once a poll brings records, the member begins a transaction and emits them; it polls
//     and emits more for Interval, or until MaxRecords.
//  2. It stops polling and waits until Completed counts every record it emitted: every
//     level has finished with each, and with everything it became (filtered, expanded,
//     broadcast, skipped by an error policy), and the broker has acknowledged every record
//     produced from them. A produced record fails after DeliveryTimeout, and the wait is
//     bounded by the transaction timeout: a transaction not drained by then (a broker gone,
//     a level stuck) aborts, and the member fails with an error saying so, which Stop and
//     Wait return.
//  3. It ends the transaction: the offsets of every record polled in it are committed in
//     the transaction, which commits. A transaction aborts instead, and its records are
//     read again, by this member or by the partitions' next owner, when partitions were
//     revoked or lost since it began (a member joined or left the group, or this one was
//     dropped), when a level failed under StopGraph (no commit follows, and the graph
//     stops), or when Stop came before every polled record was emitted. The records
//     produced in an aborted transaction stay in the output topic, where read_committed
//     readers skip them.
//
// A member that dies leaves its transaction open: its records produced and, perhaps, its
// offsets sent. The transaction holds the group's offsets (they are unstable, and no member
// reads the partitions) until it times out (kgo.TransactionTimeout, 40s by default), or
// until a member starts with the same TransactionalID: a member loads its producer id when
// it starts, which fences its predecessor and aborts what that one left open. A restarted
// member should therefore take the id it had; two running members must not share one.
//
// What it costs, in kind: at every cut the member stops polling and the graph drains to
// empty, so the stages idle while the last records of a transaction go through and are
// acknowledged; then ending the transaction takes three round trips to the cluster (the
// offsets, a heartbeat, the end; more before KIP-890), during which nothing is polled. A longer Interval pays for
// this less often, and holds each output back longer from read_committed readers, who see
// nothing of a transaction until it commits. A rebalance aborts the transaction in hand
// (its work is done again). And each transaction writes a marker record into every
// partition it produced to. The README measures it against the same graph
// at least once.
//
// The contract has limits. Exactly once covers the outputs made from the records a
// transaction emitted, while they go through the body: those are produced in it, after its
// Begin and before its drain ends. The producing stages produce only while a transaction is
// open, never while Begin or End runs nor between transactions, so body must make its output
// from the stream it is given, as it goes. An output emitted otherwise (from an Input merged
// in, a timer, a Stateful level's End) is late: its entries were finished, and perhaps
// committed, before it existed. Produced while a transaction is open, it joins that
// transaction, unless it is still unsent when the transaction's drain ends; it is then
// visible only if that transaction commits, and lost if it aborts (at most once). Produced
// between transactions, or at Stop after the last (a Stateful End), or still unsent at a
// drain's end, it fails with ErrNoTransaction, which stops the graph: Stop returns the error
// and read_committed readers never see the output. The decoding level's error policy applies
// as in Source (a record skipped under Skip is committed past, without output); an output
// that fails to encode or to be produced stops the graph. The graph is one member: it scales
// within by the widths of its levels, and out by more graphs in the group, each with its own
// TransactionalID. Consuming reads committed records only, so a graph may read another's
// transactional output.
//
// # Concurrency
//
// Source, Sink and Transact build levels; they are called before Start like the rest of
// the builder (Transact calls body once, then). encode and decode run on their levels'
// stages like any level function, so with n > 1 they run on several goroutines at once.
// Per consumer stage there run the stage's own goroutine (emitting polls, and the final
// commit), a poll goroutine, a commit goroutine, and the client's, which runs the rebalance
// callbacks; they share the consumer's record of what it emitted under a mutex. OnCommit is
// called on the commit goroutine, the client's or the stage's; calls for one stage do not
// overlap. A Transact member runs the stage's goroutine (emitting polls, leaving the group),
// a transaction goroutine (polling, the cuts, Begin and End, OnTransaction's calls) and the
// client's; its producing stages produce through the member's client while a transaction
// is open (a read-write lock they hold over each batch, which the member takes to open and
// close the transaction), never while Begin or End runs. Every goroutine the connector starts, and every client it makes, has ended when
// Stop (or Wait) returns.
package kafka
