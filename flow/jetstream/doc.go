// Package jetstream connects a flow.Graph to NATS JetStream: Source consumes durable pull
// consumers into a graph, Sink publishes a stream's entries to JetStream, and both deliver
// at least once. In this package's code and documentation, natsjs is nats.go's own jetstream
// package (github.com/nats-io/nats.go/jetstream).
//
// It is a module of its own (github.com/loopyring/loopyring/flow/jetstream), so that the
// library does not require nats.go: only a program that imports this package does.
//
// # Usage
//
//	nc, err := nats.Connect(url)
//	js, err := natsjs.New(nc)
//	// A durable pull consumer with AckExplicit, made once (nats CLI, or CreateOrUpdateConsumer).
//	g := flow.New()
//	orders := jetstream.Source(g, 2, jetstream.SourceConfig{
//		JetStream: js, Stream: "ORDERS", Consumers: []string{"billing"},
//	}, decodeOrder, flow.OnError(flow.Skip)) // the policy for messages decode refuses
//	bills := orders.KeyBy(customer).Then(4, bill)
//	jetstream.Sink(bills, 1, jetstream.SinkConfig{JetStream: js}, encodeBill)
//	err = g.Start(ctx)
//	...
//	err = g.Stop() // drains, acknowledges what the drain finished, flushes the connection
//	nc.Close()     // after Stop: the last acknowledgements travel on it
//
// Source adds two levels: n fetching stages (named SourceConfig.Name) and n decoding stages
// (Name+".decode"), decoding stage i reading fetching stage i only. Each fetching stage
// fetches its consumer's messages (Consumer.Fetch, SourceConfig.Batch at a time) on a
// goroutine of its own, which hands them over to the stage as they arrive and wakes it in its
// event loop; the stage emits them in delivery order. The goroutine asks for the next batch
// only when the hand-over has taken the last one, and the hand-over takes no more than Batch
// while the stage is behind: a full ring stops the fetch (TestFullRingStopsTheFetch).
//
// # At-least-once
//
// A fetching stage acknowledges a message only when the graph has finished with its entry:
// every level that reads it, and everything it became, down to the sinks, whatever became of
// it on the way: filtered out, skipped by an error policy, expanded into several entries or
// broadcast to several stages (flow.SourceStage.Completed, which counts the finished entries
// as a prefix in emission order). Every AckInterval (every millisecond while the stage holds
// half the consumer's MaxAckPending unacknowledged, since the server then waits for
// acknowledgements before it delivers more), and only while messages wait, the stage reads
// that count and acknowledges (Ack, one publication, without a round trip) that many
// messages from the oldest it has not acknowledged (TestAcksFollowTheSinks,
// TestSourceDeliversAndAcksEverything). A sink built by Sink finishes an entry only when the
// server has acknowledged its publication, so an acknowledged input message has its outputs
// stored (TestSinkFinishesOnlyStoredEntries).
//
// When the graph stops, a fetching stage stops fetching, gives back (Nak) what it fetched and
// had not emitted, and waits, acknowledging as the drain goes, until the graph has finished
// every entry it emitted; then it flushes the connection, so that when Stop or Wait returns
// the server has received every acknowledgement (TestStopAcknowledgesTheDrain).
//
// What the error policies mean for acknowledgement: an entry that a level's Skip or ErrorSink
// policy drops is finished, so its message is acknowledged: this is how a poison message
// that decode refuses leaves the stream (ErrorSink may record it first, as a dead letter).
// Once the graph has failed under StopGraph (its error is a *flow.StageError), no stage of it
// acknowledges anything more: the message whose failure stopped the graph, and every message
// not acknowledged by then, is redelivered to the next consumer, so a failure loses nothing
// (TestPoisonRecordFollowsThePolicy). A graph stopped by the cancellation of Start's context
// drains and acknowledges as Stop does.
//
// Duplicates come only from redelivery: a message delivered again after a crash, after a
// failure under StopGraph, or because its AckWait ran out while the graph held it. At most
// the consumer's MaxAckPending messages are unacknowledged at a time, so a crash duplicates
// at most that many (TestCrashRedeliversWithoutLoss, TestGraphsJoinAndLeaveOneConsumer,
// TestClusterNodeStoppedMidStream). Choose AckWait well above the time MaxAckPending
// messages take through the graph. At the output, a sink's retry may also store a record
// twice, unless encode sets a message id (see Sink).
//
// # Partitions and order
//
// A fetching stage emits its consumer's messages in the order the consumer delivers them,
// and its decoding stage keeps that order; flow keeps per-upstream-stage order from there
// (PartitionBy, KeyBy). Redelivery breaks the order, as it does for any JetStream consumer.
// For key order across several stages, partition the stream by key and give each stage the
// consumer of one partition: a subject transform on the stream writes the partition into the
// subject, as in
//
//	natsjs.StreamConfig{
//		Name:     "ORDERS",
//		Subjects: []string{"orders.*"}, // orders.<customer>
//		SubjectTransform: &natsjs.SubjectTransformConfig{
//			Source:      "orders.*",
//			Destination: "orders.{{partition(2,1)}}.{{wildcard(1)}}", // orders.<p>.<customer>
//		},
//	}
//
// with one durable consumer per partition, filtered on it (FilterSubject "orders.0.*",
// "orders.1.*"), and SourceConfig.Consumers naming them in partition order for a source of
// as many stages: stage p then reads partition p, every message of a customer reaches the
// same stage, in stream order. A KeyBy on the customer below keeps that order through the
// levels that follow (TestPartitionsKeepKeyOrder). Several graphs (processes) share the partitions' consumers as they
// would share any durable consumer: each message goes to one of them.
//
// # Sinks
//
// A sink stage publishes each batch it receives asynchronously (PublishMsgAsync), with at
// most SinkConfig.MaxPending publications unacknowledged, and returns when the server has
// acknowledged all of them. Batches form by themselves: while a stage waits for one batch's
// acknowledgements, the next accumulates in the ring above it, so a batch is as large as one
// round trip lets it grow, up to the level's MaxBatch. A separate linger setting was
// rejected: a stage that waited to fill a batch would hold every entry of it back for
// nothing, since publications leave one by one and only the wait for acknowledgements is per
// batch. Failures are retried and then follow the level's error policy (see Sink;
// TestSinkFailuresFollowThePolicy).
//
// # Concurrency
//
// Source and Sink are building functions: call them before Start, as flow's own. Each
// fetching stage has one goroutine of its own besides its stage, from Start until the stage
// ends, and nats.go one more per request in flight; the connection's goroutines are
// nats.go's. decode runs on the decoding stage's goroutine, encode on the sink stage's.
// Acknowledgements (Ack) are sent from the fetching stage's goroutine only, after Completed
// has observed the checkpoints the levels below store once their functions return, so the
// return of the last function to see an entry happens before its message is acknowledged;
// the fetch goroutine only gives messages back (Nak) when the stage stops.
//
// # Failures
//
// A stage whose consumer cannot be found (an unreachable server, a wrong name) fails within
// SourceConfig.Timeout under the fetching level's policy, so by default Wait returns the
// error; a consumer that does not acknowledge explicitly is refused the same way. A sink
// checks, during Start, that the server answers within SinkConfig.Timeout, and Start fails if
// it does not (TestUnreachableServerFailsClearly). A fetch that fails because the connection
// closed or the consumer is gone fails the fetching stage; other fetch failures (missed
// heartbeats, a change of the consumer's leader, a connection moving to another node) are
// retried, and while the connection reconnects a stage waits for it as the connection's own
// reconnect policy says (TestClusterNodeStoppedMidStream). Stop never waits on the server
// without a bound: the fetch ends at once, a sink's retries after its Attempts, and the last
// flush within SourceConfig.Timeout.
package jetstream
