package main

import "slices"

// Transactions (MULTI, EXEC, DISCARD, WATCH, UNWATCH). The parser that owns a connection
// keeps its transaction: after MULTI it queues the commands (copied) and answers +QUEUED,
// or the error of a command it refuses, which makes EXEC abort. EXEC turns the queue into
// one unit in the order of multi-shard commands (order.go): one part per shard that a
// queued command touches, or that holds a key the connection watches, all stamped under
// the sequencer's one lock like the parts of an MSET. Each part carries its shard's share
// of the transaction's commands (a multi-key command's share is that command's part on the
// shard), in the transaction's order, and the worker runs the whole share at the part's
// turn: no other command runs on the shard in between, and every shard meets the
// transaction at the same place in the order of multi-shard commands, so the transaction
// is serial with every other command, as MGET and MSET are. The replier folds the shares
// back into one reply per command with MGET's and MSET's merge, and writes them as one
// array in command order.
//
// Commands that touch no key (PING, ECHO, SELECT, HELLO, CLIENT…) are answered by the
// parser when it builds the transaction, in their place: they touch the connection's state
// only, which the parser owns, so running them before the shards run theirs changes no
// outcome. A SELECT changes the database of the commands queued after it.

// txQueued is one command queued after MULTI.
type txQueued struct {
	cmd  *command
	args [][]byte // copied: the request owns them
}

// txn is what the replier needs to assemble a transaction's reply. The parser builds it;
// nobody writes it once its parts are emitted.
type txn struct {
	n     int      // how many commands
	raws  [][]byte // by command: the reply of one the parser answered; nil for the others
	watch bool     // the connection watches keys: the transaction runs only if none changed
}

// txPart is one shard's share of a transaction.
type txPart struct {
	t    *txn
	reqs []request // its commands (or their parts) on this shard, in order; seq is the command's index
}

// execPart is the reply to one shard's share of a transaction (subs: its commands' replies,
// seq the command's index), or, once the replier has them all, to the whole transaction
// (subs: every command's reply, in order).
type execPart struct {
	t       *txn
	subs    []reply
	aborted bool // a watched key changed: nothing ran, and EXEC answers null
}

var (
	replyQueued    = []byte("+QUEUED\r\n")
	errExecAbort   = errorReply("EXECABORT Transaction discarded because of previous errors.")
	errExecArity   = errorReply("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
	errWatchShards = errorReply("ERR this server runs a transaction with WATCH only when its watched and queued keys share one shard (run the goroutine mode for more); transaction discarded")
	errWatchState  = errorReply("ERR this server does not run SELECT, HELLO or CLIENT SETNAME in a transaction with WATCH; transaction discarded")
	execCmd        = commands["exec"]
	unwatchCmd     = commands["unwatch"]
)

// txCommand answers MULTI, EXEC, DISCARD, WATCH and UNWATCH outside a transaction.
func (p *connParser) txCommand(c *conn, cmd *command, args [][]byte, rt *router, sc *scratch, emit func(request)) {
	switch cmd.id {
	case cmdMulti:
		p.multi = true
		emit(p.local(c, rt, replyOK, false))
	case cmdExec:
		emit(p.local(c, rt, errorReply("ERR EXEC without MULTI"), false))
	case cmdDiscard:
		emit(p.local(c, rt, errorReply("ERR DISCARD without MULTI"), false))
	case cmdUnwatch:
		p.unwatch(c, rt, sc, emit, replyOK)
	case cmdWatch:
		// Each shard records the keys it holds (watch.go); the connection remembers the
		// shards, to check them at EXEC and to make them forget.
		p.split(c, p.next(), cmd, copyArgs(args), rt, sc, emit)
		for _, s := range sc.touched {
			if !slices.Contains(p.watching, s) {
				p.watching = append(p.watching, s)
			}
		}
	}
}

// queue takes a command sent after MULTI: it queues it or refuses it as Redis 7 does.
// MULTI and WATCH are refused without spoiling the transaction; an unknown command or
// subcommand, or a wrong number of arguments, spoils it; EXEC, DISCARD and QUIT run at once.
func (p *connParser) queue(c *conn, cmd *command, args [][]byte, rt *router, sc *scratch, emit func(request)) {
	var raw, subErr []byte
	if cmd != nil && cmd.arityOK(len(args)) {
		subErr = subcommandError(cmd, args)
	}
	switch {
	case cmd == nil:
		p.txFailed = true
		raw = unknownCommand(args)
	case !cmd.arityOK(len(args)) && cmd.id == cmdExec:
		p.discard()
		p.unwatch(c, rt, sc, emit, errExecArity)
		return
	case !cmd.arityOK(len(args)):
		p.txFailed = true
		raw = errArity(cmd)
	case subErr != nil:
		p.txFailed = true
		raw = subErr
	case cmd.id == cmdMulti:
		raw = errorReply("ERR MULTI calls can not be nested")
	case cmd.id == cmdWatch:
		raw = errorReply("ERR WATCH inside MULTI is not allowed")
	case cmd.id == cmdExec:
		p.exec(c, rt, sc, emit)
		return
	case cmd.id == cmdDiscard:
		p.discard()
		p.unwatch(c, rt, sc, emit, replyOK)
		return
	case cmd.id == cmdQuit:
		emit(p.local(c, rt, replyOK, true))
		p.dead = true
		return
	default:
		p.queued = append(p.queued, txQueued{cmd: cmd, args: copyArgs(args)})
		raw = replyQueued
	}
	emit(p.local(c, rt, raw, false))
}

// discard ends the transaction without running it.
func (p *connParser) discard() {
	clear(p.queued) // the arguments may be large: let them go now
	p.multi, p.queued, p.txFailed = false, p.queued[:0], false
	if cap(p.queued) > maxScratchArgs {
		p.queued = nil
	}
}

// unwatch makes every shard that holds a key the connection watches forget its keys, then
// answers raw (nil: nothing, when the connection ends). With no key watched it answers at
// once.
func (p *connParser) unwatch(c *conn, rt *router, sc *scratch, emit func(request), raw []byte) {
	if len(p.watching) == 0 {
		if raw != nil {
			emit(p.local(c, rt, raw, false))
		}
		return
	}
	seq, parts := p.next(), uint32(len(p.watching))
	mseqs := rt.stamp(p.watching, sc)
	for part, s := range p.watching {
		emit(request{c: c, seq: seq, part: uint32(part), parts: parts, shard: s, mseq: mseqs[part], cmd: unwatchCmd, raw: raw})
	}
	p.watching = p.watching[:0]
}

// exec runs the queued transaction: it answers the commands that touch no key itself, in
// their place, and emits one part per shard touched (or watched) with that shard's share of
// the others. Every shard forgets the connection's watched keys as the transaction runs.
func (p *connParser) exec(c *conn, rt *router, sc *scratch, emit func(request)) {
	queued, failed := p.queued, p.txFailed
	defer p.discard()
	if failed {
		p.unwatch(c, rt, sc, emit, errExecAbort)
		return
	}
	// The shards first, since the graph refuses some transactions with WATCH before any
	// command runs. A key's shard does not depend on its database.
	shards := append([]uint32(nil), p.watching...)
	touch := func(s uint32) {
		if !slices.Contains(shards, s) {
			shards = append(shards, s)
		}
	}
	watch := len(p.watching) > 0
	for _, q := range queued {
		switch q.cmd.kind {
		case kindKey:
			touch(rt.shardOf(q.args[1]))
		case kindMulti:
			if q.cmd.pairsOK(len(q.args)) {
				for i := 1; i < len(q.args); i += q.cmd.step {
					touch(rt.shardOf(q.args[i]))
				}
			}
		case kindAll:
			for _, s := range rt.all {
				touch(s)
			}
		case kindConn:
			if watch && changesConn(q) {
				p.unwatch(c, rt, sc, emit, errWatchState)
				return
			}
		}
	}
	if watch && rt.seq != nil && len(shards) > 1 {
		// Each shard would check its watched keys at its own turn, and one shard may run
		// its share before another has found a key changed. Agreeing first takes a second
		// round between the shards, with the shards held in between, which the graph does
		// not have (see the README). One shard checks and runs within its one turn.
		p.unwatch(c, rt, sc, emit, errWatchShards)
		return
	}

	t := &txn{n: len(queued), raws: make([][]byte, len(queued)), watch: watch}
	shares := make([][]request, len(shards))
	add := func(s uint32, r request) {
		i := slices.Index(shards, s)
		shares[i] = append(shares[i], r)
	}
	for i, q := range queued {
		r := request{c: c, seq: uint64(i), parts: 1, db: p.db, resp3: p.resp3, cmd: q.cmd, args: q.args}
		switch q.cmd.kind {
		case kindConn:
			t.raws[i], _ = p.connCommand(c, q.cmd, q.args) // QUIT, the one that ends a connection, is not queued
		case kindTx:
			t.raws[i] = replyOK // UNWATCH: the transaction forgets the watched keys anyway
		case kindKey:
			add(rt.shardOf(q.args[1]), r)
		case kindAll:
			r.parts = uint32(rt.shards)
			for _, s := range rt.all {
				r.part = s
				add(s, r)
			}
		case kindMulti:
			if !q.cmd.pairsOK(len(q.args)) {
				t.raws[i] = errArity(q.cmd)
				continue
			}
			p.splitTx(r, rt, sc, add)
		}
	}
	if len(shards) == 0 { // no key: the parser has every reply
		out := appendArrayHeader(nil, t.n)
		for _, raw := range t.raws {
			out = append(out, raw...)
		}
		emit(p.local(c, rt, out, false))
		return
	}
	seq, parts := p.next(), uint32(len(shards))
	mseqs := rt.stamp(shards, sc)
	for part, s := range shards {
		emit(request{c: c, seq: seq, part: uint32(part), parts: parts, shard: s, db: p.db, resp3: p.resp3, mseq: mseqs[part],
			cmd: execCmd, tx: &txPart{t: t, reqs: shares[part]}})
	}
	p.watching = p.watching[:0]
}

// splitTx divides a queued multi-key command into its parts by shard, as split does.
func (p *connParser) splitTx(r request, rt *router, sc *scratch, add func(uint32, request)) {
	if len(sc.byShard) != rt.shards {
		sc.byShard = make([][]int32, rt.shards)
	}
	sc.touched = sc.touched[:0]
	for i := 1; i < len(r.args); i += r.cmd.step {
		s := rt.shardOf(r.args[i])
		if sc.byShard[s] == nil {
			sc.touched = append(sc.touched, s)
		}
		sc.byShard[s] = append(sc.byShard[s], int32(i))
	}
	r.parts = uint32(len(sc.touched))
	for part, s := range sc.touched {
		r.part, r.keys = uint32(part), sc.byShard[s]
		add(s, r)
		sc.byShard[s] = nil
	}
}

// changesConn reports whether a queued command changes the connection's state. A
// transaction with WATCH runs it only if no watched key changed, which in the graph only
// the worker learns, after the parser has answered the commands that touch no key: so such
// a transaction is refused rather than run with the state changed either way.
func changesConn(q txQueued) bool {
	switch q.cmd.id {
	case cmdSelect, cmdHello:
		return true
	case cmdClient:
		return equalFold(q.args[1], "setname")
	}
	return false
}
