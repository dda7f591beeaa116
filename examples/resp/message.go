package main

// request is what a parser hands to a worker: one command, or one shard's part of a
// multi-key command, stamped with its connection's sequence number so the replier can put
// the answers back in request order. It travels through the rings by value; the slices it
// holds are owned by the request (copied out of the read buffer) and never written again.
type request struct {
	c          *conn
	seq        uint64 // per connection, assigned by the parser in arrival order
	part       uint32 // this part's index among parts
	parts      uint32 // how many parts the command was split into (1: not split)
	shard      uint32 // the store shard the part runs on, which picks the worker
	db         uint8  // the database the connection had selected (SELECT)
	resp3      bool   // the connection speaks RESP3 (HELLO 3): a missing value is "_"
	mseq       uint64 // parts > 1: the part's place in its shard's order of multi-shard commands (order.go)
	cmd        *command
	args       [][]byte // the whole command, name first; shared by every part
	keys       []int32  // kindMulti: the indexes in args of this part's keys
	raw        []byte   // cmd == nil: the reply, already encoded by the parser
	closeAfter bool     // shut the connection down once this reply is written
	closeConn  bool     // the connection's last entry: its fd may be closed
	flush      bool     // the last request of a read: its reply completes what the client sent (replierStage.reply)
	tx         *txPart  // cmdExec: this shard's share of the transaction
	abort      bool     // cmdExec, goroutine mode: a watched key changed, so run nothing
}

// replyKind says how a reply's fields encode.
type replyKind uint8

const (
	replyRaw   replyKind = iota // b is encoded RESP
	replyBulk                   // b is a value (nil: the null bulk string)
	replyInt                    // n
	replyMGet                   // a part of MGET: vals[i] is the value of args[keys[i]]
	replySum                    // a part of DEL or EXISTS or DBSIZE: n adds up
	replyAllOK                  // a part of MSET, FLUSHALL, FLUSHDB or WATCH: +OK once every part is done
	replyDone                   // a part of UNWATCH: b once every part is done (nil: nothing is written)
	replyExec                   // a shard's share of EXEC, or the whole EXEC once assembled: ex
)

// reply is what a worker hands to a replier. Values (b, vals) may alias the store: the
// store never writes into a value it has handed out, it replaces it.
type reply struct {
	c          *conn
	seq        uint64
	part       uint32
	parts      uint32
	kind       replyKind
	n          int64
	b          []byte
	vals       [][]byte
	keys       []int32
	nkeys      int // replyMGet: the whole command's key count
	ex         *execPart
	resp3      bool
	closeAfter bool
	closeConn  bool
	flush      bool // the request's flush
}
