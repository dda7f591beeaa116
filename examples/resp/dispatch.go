package main

import (
	"hash/maphash"
)

// router holds what a parser needs to turn requests into parts: the limits, the shards and,
// in the graph, the sequencer that orders the commands spanning shards (order.go).
type router struct {
	lim    limits
	shards int
	seed   maphash.Seed
	seq    *sequencer // nil in goroutine mode, which locks every shard a command touches
	all    []uint32   // every shard, for the commands that touch them all
}

func newRouter(lim limits, shards int, ordered bool) *router {
	rt := &router{lim: lim, shards: shards, seed: maphash.MakeSeed(), all: make([]uint32, shards)}
	for i := range rt.all {
		rt.all[i] = uint32(i)
	}
	if ordered {
		rt.seq = newSequencer(shards)
	}
	return rt
}

// stamp numbers the parts of one multi-shard command, one per shard in shards, in their
// shards' sequences (mseqs[i] for shards[i]).
func (rt *router) stamp(shards []uint32, sc *scratch) []uint64 {
	if cap(sc.mseqs) < len(shards) {
		sc.mseqs = make([]uint64, len(shards))
	}
	sc.mseqs = sc.mseqs[:len(shards)]
	if rt.seq != nil && len(shards) > 1 {
		rt.seq.stamp(shards, sc.mseqs)
	}
	return sc.mseqs
}

func (rt *router) shardOf(key []byte) uint32 {
	return uint32(maphash.Bytes(rt.seed, key) % uint64(rt.shards))
}

// connShard is where a request that touches no key runs: any shard would do, and one per
// connection spreads them.
func (rt *router) connShard(c *conn) uint32 { return uint32(c.id % uint64(rt.shards)) }

// scratch is a parser's reusable memory, one per parser stage (or goroutine).
type scratch struct {
	args    [][]byte
	byShard [][]int32
	touched []uint32
	mseqs   []uint64
}

// maxScratchArgs is the longest argument array a parser keeps between requests; one grown
// by a request of more arguments is let go.
const maxScratchArgs = 1024

// forget clears the arguments of the request just parsed, since they point into the read
// buffer or into the connection's pending request: left in the scratch, they kept a large
// incomplete request's buffer alive after its connection had closed, until the parser
// happened to parse a request of as many arguments. The requests own copies (copyArgs).
func (sc *scratch) forget(args [][]byte) {
	clear(args)
	if cap(sc.args) > maxScratchArgs {
		sc.args = nil
	}
}

// connParser is a connection's parse state, owned by the parser that the connection's id
// selects.
type connParser struct {
	pending []byte // the start of an incomplete request
	need    int    // len(pending) at which parsing can make progress
	seq     uint64 // the next request's sequence number
	dead    bool   // a protocol error or QUIT ended the connection: ignore what follows
	name    []byte // CLIENT SETNAME
	db      uint8  // SELECT
	resp3   bool   // HELLO 3

	// The connection's transaction (transaction.go).
	multi    bool       // after MULTI: commands are queued
	queued   []txQueued // the commands queued, their arguments copied
	txFailed bool       // a command was refused while queuing: EXEC aborts
	watching []uint32   // the shards that hold keys the connection watches
}

// feed parses what the connection sent and emits one request per part of every complete
// command. data is only read during the call.
func (p *connParser) feed(c *conn, data []byte, rt *router, sc *scratch, emit func(request)) {
	if p.dead || c.dropped.Load() {
		p.dead, p.pending = true, nil
		return
	}
	buf := data
	if len(p.pending) > 0 {
		p.pending = append(p.pending, data...)
		if len(p.pending) < p.need {
			return
		}
		buf = p.pending
	}
	for pos := 0; pos < len(buf) && !c.dropped.Load(); {
		args, n, need, err := parseCommand(buf[pos:], &rt.lim, sc.args)
		sc.args = args
		if err == nil && len(args) > 0 {
			p.dispatch(c, args, rt, sc, emit)
		}
		sc.forget(args)
		if err == errIncomplete {
			if need <= rt.lim.maxRequest {
				rest := buf[pos:]
				if len(p.pending) > 0 {
					p.pending = p.pending[:copy(p.pending, rest)] // copy moves overlapping bytes safely
				} else {
					p.pending = append(p.pending[:0], rest...)
				}
				p.need = need
				return
			}
			err = protoError("request too large")
		}
		if err != nil {
			// The client may be in the middle of sending a request it was refused (an
			// upload past the limits): nothing more is read, and once the error is written
			// the connection is closed with a reset, which ends the client's write at once
			// (resetOnClose).
			p.dead = true
			p.pending, p.need = nil, 0
			c.dropped.Store(true)
			emit(p.local(c, rt, errorReply("ERR "+err.Error()), true))
			return
		}
		pos += n
		if p.dead {
			p.pending, p.need = nil, 0
			return // QUIT: what was sent after it is not run, as in Redis
		}
	}
	if cap(p.pending) > 1<<20 {
		p.pending = nil // do not keep a large request's buffer for the connection's life
	}
	p.pending, p.need = p.pending[:0], 0
}

// end emits the connection's last request, after which the replier closes its fd. The
// shards forget the keys it watched first.
func (p *connParser) end(c *conn, rt *router, sc *scratch, emit func(request)) {
	p.unwatch(c, rt, sc, emit, nil)
	emit(request{c: c, seq: p.next(), parts: 1, shard: rt.connShard(c), closeConn: true})
	p.pending, p.dead = nil, true
	p.multi, p.queued = false, nil
}

func (p *connParser) next() uint64 {
	s := p.seq
	p.seq++
	return s
}

// local makes a request that carries a reply the parser computed itself.
func (p *connParser) local(c *conn, rt *router, raw []byte, closeAfter bool) request {
	return request{c: c, seq: p.next(), parts: 1, shard: rt.connShard(c), raw: raw, closeAfter: closeAfter}
}

func (p *connParser) dispatch(c *conn, args [][]byte, rt *router, sc *scratch, emit func(request)) {
	cmd := lookup(args[0])
	if p.multi {
		p.queue(c, cmd, args, rt, sc, emit)
		return
	}
	switch {
	case cmd == nil:
		emit(p.local(c, rt, unknownCommand(args), false))
		return
	case !cmd.arityOK(len(args)) && cmd.id == cmdExec:
		p.unwatch(c, rt, sc, emit, errExecArity) // Redis aborts even where there is no transaction
		return
	case !cmd.arityOK(len(args)) || !cmd.pairsOK(len(args)):
		emit(p.local(c, rt, errArity(cmd), false))
		return
	case cmd.kind == kindTx:
		p.txCommand(c, cmd, args, rt, sc, emit)
		return
	case cmd.kind == kindConn:
		raw, closeAfter := p.connCommand(c, cmd, args)
		emit(p.local(c, rt, raw, closeAfter))
		p.dead = closeAfter
		return
	}
	args = copyArgs(args)
	seq := p.next()
	switch cmd.kind {
	case kindKey:
		emit(request{c: c, seq: seq, parts: 1, shard: rt.shardOf(args[1]), db: p.db, resp3: p.resp3, cmd: cmd, args: args})
	case kindAll:
		mseqs := rt.stamp(rt.all, sc)
		for s := range rt.shards {
			emit(request{c: c, seq: seq, part: uint32(s), parts: uint32(rt.shards), shard: uint32(s), db: p.db, resp3: p.resp3, mseq: mseqs[s], cmd: cmd, args: args})
		}
	case kindMulti:
		p.split(c, seq, cmd, args, rt, sc, emit)
	}
}

// split divides a multi-key command into one part per shard it touches, each part listing
// the positions of its keys so that the replier can put MGET's values back in order.
func (p *connParser) split(c *conn, seq uint64, cmd *command, args [][]byte, rt *router, sc *scratch, emit func(request)) {
	if len(sc.byShard) != rt.shards {
		sc.byShard = make([][]int32, rt.shards)
	}
	sc.touched = sc.touched[:0]
	for i := 1; i < len(args); i += cmd.step {
		s := rt.shardOf(args[i])
		if sc.byShard[s] == nil {
			sc.touched = append(sc.touched, s)
		}
		sc.byShard[s] = append(sc.byShard[s], int32(i))
	}
	parts := uint32(len(sc.touched))
	mseqs := rt.stamp(sc.touched, sc)
	for part, s := range sc.touched {
		emit(request{c: c, seq: seq, part: uint32(part), parts: parts, shard: s, db: p.db, resp3: p.resp3, mseq: mseqs[part], cmd: cmd, args: args, keys: sc.byShard[s]})
		sc.byShard[s] = nil // the request owns the slice now
	}
}

// copyArgs copies the arguments out of the read buffer into one allocation that the request
// owns, so the read buffer can be reused at once.
func copyArgs(args [][]byte) [][]byte {
	total := 0
	for _, a := range args {
		total += len(a)
	}
	buf := make([]byte, total)
	out := make([][]byte, len(args))
	off := 0
	for i, a := range args {
		n := copy(buf[off:], a)
		out[i] = buf[off : off+n : off+n] // capped: an append to one argument cannot spill into the next
		off += n
	}
	return out
}

// unknownCommand answers a command that is not in the table as Redis 7 does: the name cut
// at 128 bytes, then quoted arguments while the list is shorter than 128 bytes, the last
// one cut to fit.
func unknownCommand(args [][]byte) []byte {
	var list []byte
	for _, a := range args[1:] {
		if len(list) >= 128 {
			break
		}
		list = append(list, '\'')
		list = append(list, errArg(a, 128-len(list)+1)...)
		list = append(list, "' "...)
	}
	return errorReply("ERR unknown command '" + errArg(args[0], 128) + "', with args beginning with: " + errArg(list, 0))
}
