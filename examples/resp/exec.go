package main

import (
	"math"
	"strconv"
)

// execute runs one request (or one part of a split command) on its shard and returns the
// reply part. It is the command code both modes share: in the graph a worker stage calls it
// on the shard it owns; in goroutine mode a connection's goroutine calls it under the
// shard's lock.
func execute(st *store, r *request) reply {
	out := reply{c: r.c, seq: r.seq, part: r.part, parts: r.parts, resp3: r.resp3, closeAfter: r.closeAfter, closeConn: r.closeConn, flush: r.flush}
	if r.cmd == nil {
		out.b = r.raw
		return out
	}
	var clk clock
	args := r.args
	ks := st.db(r.db)
	switch r.cmd.id {
	case cmdGet:
		it, _ := ks.get(args[1], &clk)
		out.kind, out.b = replyBulk, it.val
	case cmdSet:
		return set(out, ks, args, &clk)
	case cmdIncr:
		return incrBy(out, ks, args[1], 1, &clk)
	case cmdDecr:
		return incrBy(out, ks, args[1], -1, &clk)
	case cmdIncrBy, cmdDecrBy:
		d, ok := parseInt(args[2])
		if !ok {
			out.b = errNotInt
			return out
		}
		if r.cmd.id == cmdDecrBy && d == math.MinInt64 {
			out.b = errorReply("ERR decrement would overflow")
			return out
		}
		if r.cmd.id == cmdDecrBy {
			d = -d
		}
		return incrBy(out, ks, args[1], d, &clk)
	case cmdExpire, cmdPExpire, cmdExpireAt, cmdPExpireAt:
		out.b = expire(ks, args, r.cmd, &clk)
	case cmdTTL, cmdPTTL, cmdExpireTime, cmdPExpireTime:
		ms, abs := r.cmd.id == cmdPTTL || r.cmd.id == cmdPExpireTime, r.cmd.id == cmdExpireTime || r.cmd.id == cmdPExpireTime
		out.kind, out.n = replyInt, ttl(ks, args[1], ms, abs, &clk)
	case cmdSetNX:
		if _, ok := ks.get(args[1], &clk); ok {
			out.b = replyZero
			return out
		}
		ks.setShared(args[1], item{val: args[2]})
		out.b = replyOne
	case cmdSetEX, cmdPSetEX:
		kind := expEX
		if r.cmd.id == cmdPSetEX {
			kind = expPX
		}
		exp, err := kind.deadline(args[2], &clk, r.cmd.name)
		if err != nil {
			out.b = err
			return out
		}
		ks.setShared(args[1], item{val: args[3], exp: exp}) // the value is of the key's allocation, as SET's
		out.b = replyOK
	case cmdGetSet:
		old, _ := ks.get(args[1], &clk)
		ks.setShared(args[1], item{val: args[2]})
		out.kind, out.b = replyBulk, old.val
	case cmdGetDel:
		it, ok := ks.get(args[1], &clk)
		if ok {
			ks.del(args[1])
		}
		out.kind, out.b = replyBulk, it.val
	case cmdGetEx:
		return getex(out, ks, args, &clk)
	case cmdAppend:
		it, _ := ks.get(args[1], &clk)
		if len(it.val)+len(args[2]) > st.maxString {
			out.b = errTooLong
			return out
		}
		ks.setShared(keyedItem(args[1], it.exp, it.val, args[2]))
		out.kind, out.n = replyInt, int64(len(it.val)+len(args[2]))
	case cmdStrlen:
		it, _ := ks.get(args[1], &clk)
		out.kind, out.n = replyInt, int64(len(it.val))
	case cmdPersist:
		it, ok := ks.get(args[1], &clk)
		if !ok || it.exp == 0 {
			out.b = replyZero
			return out
		}
		it.exp = 0
		ks.setKeyCopy(args[1], it)
		out.b = replyOne
	case cmdType:
		out.b = replyNone
		if _, ok := ks.get(args[1], &clk); ok {
			out.b = replyString
		}
	case cmdDel, cmdExists:
		out.kind = replySum
		for _, k := range r.keys {
			if _, ok := ks.get(args[k], &clk); ok {
				out.n++
				if r.cmd.id == cmdDel {
					ks.del(args[k])
				}
			}
		}
	case cmdMGet:
		out.kind, out.keys, out.nkeys = replyMGet, r.keys, len(args)-1
		out.vals = make([][]byte, len(r.keys))
		for i, k := range r.keys {
			it, _ := ks.get(args[k], &clk)
			out.vals[i] = it.val
		}
	case cmdMSet:
		out.kind = replyAllOK
		for _, k := range r.keys {
			ks.setShared(keyedItem(args[k], 0, args[k+1]))
		}
	case cmdDBSize:
		out.kind, out.n = replySum, ks.size(&clk)
	case cmdFlushAll, cmdFlushDB:
		if len(args) > 2 || (len(args) == 2 && !equalFold(args[1], "sync") && !equalFold(args[1], "async")) {
			out.b = errSyntax
			return out
		}
		out.kind = replyAllOK
		if r.cmd.id == cmdFlushAll {
			st.flushAll()
		} else {
			ks.flush()
		}
	case cmdWatch:
		for _, k := range r.keys {
			st.watch(r.c, r.db, args[k], &clk)
		}
		out.kind = replyAllOK
	case cmdUnwatch:
		st.unwatch(r.c)
		out.kind, out.b = replyDone, r.raw
	case cmdExec:
		return execTx(out, st, r)
	default:
		out.b = errorReply("ERR command '" + r.cmd.name + "' has no executor")
	}
	return out
}

// execTx runs a shard's share of a transaction, unless a key the connection watches has
// changed: checked here when the transaction has this one part, and by the goroutine mode
// across every locked shard before it runs any part (r.abort). The shard forgets the
// connection's watched keys either way.
func execTx(out reply, st *store, r *request) reply {
	abort := r.abort
	if r.tx.t.watch && r.parts == 1 {
		abort = st.watchDirty(r.c)
	}
	st.unwatch(r.c)
	ex := &execPart{t: r.tx.t, aborted: abort}
	if !abort {
		ex.subs = make([]reply, len(r.tx.reqs))
		for i := range r.tx.reqs {
			ex.subs[i] = execute(st, &r.tx.reqs[i])
		}
	}
	out.kind, out.ex = replyExec, ex
	return out
}

// set runs SET key value [NX|XX] [GET] [EX s|PX ms|EXAT unix-s|PXAT unix-ms|KEEPTTL] as
// Redis 7 does: an option may be given again (the last expiry value counts), but NX with
// XX, or two kinds of expiry, or an expiry with KEEPTTL, is a syntax error; the expiry's
// value is checked only once every option has parsed. With GET the reply is the old value
// (or nil), whether or not NX or XX let the SET happen.
func set(out reply, ks *keyspace, args [][]byte, clk *clock) reply {
	var nx, xx, get, keep bool
	var kind expiryKind
	var when []byte
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch k := expiryOption(a); {
		case equalFold(a, "nx") && !xx:
			nx = true
		case equalFold(a, "xx") && !nx:
			xx = true
		case equalFold(a, "get"):
			get = true
		case equalFold(a, "keepttl") && kind == 0:
			keep = true
		case k != 0 && (kind == 0 || kind == k) && !keep && i+1 < len(args):
			kind, when = k, args[i+1]
			i++
		default:
			out.b = errSyntax
			return out
		}
	}
	var exp int64
	if kind != 0 {
		var err []byte
		if exp, err = kind.deadline(when, clk, "set"); err != nil {
			out.b = err
			return out
		}
	}
	old, exists := ks.get(args[1], clk)
	if get {
		out.kind, out.b = replyBulk, old.val
	}
	if (nx && exists) || (xx && !exists) {
		if !get {
			out.b = null(out.resp3)
		}
		return out
	}
	it := item{val: args[2], exp: exp}
	if keep {
		it.exp = old.exp
	}
	ks.setShared(args[1], it) // the value is args[2], of the same allocation
	if !get {
		out.b = replyOK
	}
	return out
}

// getex runs GETEX key [EX s|PX ms|EXAT unix-s|PXAT unix-ms|PERSIST] as Redis 7 does: the
// options parse as SET's (an expiry may be given again, the last counting; PERSIST with an
// expiry is a syntax error), a missing key answers nil before the expiry's value is checked,
// and a deadline already past deletes the key after its value is read.
func getex(out reply, ks *keyspace, args [][]byte, clk *clock) reply {
	var persist bool
	var kind expiryKind
	var when []byte
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch k := expiryOption(a); {
		case equalFold(a, "persist") && kind == 0:
			persist = true
		case k != 0 && (kind == 0 || kind == k) && !persist && i+1 < len(args):
			kind, when = k, args[i+1]
			i++
		default:
			out.b = errSyntax
			return out
		}
	}
	it, ok := ks.get(args[1], clk)
	if !ok {
		out.kind = replyBulk
		return out
	}
	var exp int64
	if kind != 0 {
		var err []byte
		if exp, err = kind.deadline(when, clk, "getex"); err != nil {
			out.b = err
			return out
		}
	}
	out.kind, out.b = replyBulk, it.val
	switch {
	case kind != 0 && exp <= clk.now():
		ks.del(args[1])
	case kind != 0, persist && it.exp != 0:
		it.exp = exp
		ks.setKeyCopy(args[1], it)
	}
	return out
}

// expiryKind is how SET's expiry option gives its time.
type expiryKind uint8

const (
	expEX   expiryKind = iota + 1 // seconds from now
	expPX                         // milliseconds from now
	expEXAT                       // a Unix time in seconds
	expPXAT                       // a Unix time in milliseconds
)

func expiryOption(a []byte) expiryKind {
	switch {
	case equalFold(a, "ex"):
		return expEX
	case equalFold(a, "px"):
		return expPX
	case equalFold(a, "exat"):
		return expEXAT
	case equalFold(a, "pxat"):
		return expPXAT
	}
	return 0
}

// deadline turns an expiry option's value into a Unix time in milliseconds, refusing what
// Redis refuses: a value that is not an integer, not positive, or that overflows.
func (k expiryKind) deadline(v []byte, clk *clock, cmd string) (int64, []byte) {
	n, ok := parseInt(v)
	if !ok {
		return 0, errNotInt
	}
	seconds := k == expEX || k == expEXAT
	if n <= 0 || (seconds && n > math.MaxInt64/1000) {
		return 0, errExpireTime(cmd)
	}
	if seconds {
		n *= 1000
	}
	if k == expEX || k == expPX {
		if n > math.MaxInt64-clk.now() {
			return 0, errExpireTime(cmd)
		}
		n += clk.now()
	}
	return n, nil
}

func errExpireTime(cmd string) []byte {
	return errorReply("ERR invalid expire time in '" + cmd + "' command")
}

func incrBy(out reply, ks *keyspace, key []byte, d int64, clk *clock) reply {
	it, ok := ks.get(key, clk)
	v := int64(0)
	if ok {
		if v, ok = parseInt(it.val); !ok {
			out.b = errNotInt
			return out
		}
	}
	if (d > 0 && v > math.MaxInt64-d) || (d < 0 && v < math.MinInt64-d) {
		out.b = errOverflow
		return out
	}
	v += d
	var digits [20]byte
	ks.setShared(keyedItem(key, it.exp, strconv.AppendInt(digits[:0], v, 10)))
	out.kind, out.n = replyInt, v
	return out
}

// expire runs EXPIRE key seconds and PEXPIRE key milliseconds, with Redis 7's conditions:
// NX (only a key without a deadline), XX (only one with), GT (only a later deadline; no
// deadline counts as infinite) and LT (only an earlier one). A deadline in the past
// deletes the key, as in Redis.
func expire(ks *keyspace, args [][]byte, cmd *command, clk *clock) []byte {
	var nx, xx, gt, lt bool
	for _, a := range args[3:] {
		switch {
		case equalFold(a, "nx"):
			nx = true
		case equalFold(a, "xx"):
			xx = true
		case equalFold(a, "gt"):
			gt = true
		case equalFold(a, "lt"):
			lt = true
		default:
			return errorReply("ERR Unsupported option " + errArg(a, 0))
		}
	}
	switch {
	case nx && (xx || gt || lt):
		return errorReply("ERR NX and XX, GT or LT options at the same time are not compatible")
	case gt && lt:
		return errorReply("ERR GT and LT options at the same time are not compatible")
	}
	when, ok := parseInt(args[2])
	if !ok {
		return errNotInt
	}
	if cmd.id == cmdExpire || cmd.id == cmdExpireAt {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			return errExpireTime(cmd.name)
		}
		when *= 1000
	}
	if cmd.id == cmdExpire || cmd.id == cmdPExpire { // relative to now; the AT forms are Unix times
		if when > math.MaxInt64-clk.now() {
			return errExpireTime(cmd.name)
		}
		when += clk.now()
	}
	it, exists := ks.get(args[1], clk)
	switch {
	case !exists,
		nx && it.exp != 0,
		xx && it.exp == 0,
		gt && (it.exp == 0 || when <= it.exp),
		lt && it.exp != 0 && when >= it.exp:
		return replyZero
	}
	if when <= clk.now() {
		ks.del(args[1])
		return replyOne
	}
	it.exp = when
	ks.setKeyCopy(args[1], it)
	return replyOne
}

// ttl returns the remaining time to live (TTL, PTTL), or with abs the deadline as a Unix
// time (EXPIRETIME, PEXPIRETIME), in seconds (rounded as Redis rounds) or milliseconds; -1
// for a key without one and -2 for a missing key.
func ttl(ks *keyspace, key []byte, ms, abs bool, clk *clock) int64 {
	it, ok := ks.get(key, clk)
	switch {
	case !ok:
		return -2
	case it.exp == 0:
		return -1
	}
	left := it.exp
	if !abs {
		left = max(it.exp-clk.now(), 0)
	}
	if ms {
		return left
	}
	return left/1000 + (left%1000+500)/1000 // (left+500)/1000, which would overflow near the largest deadline
}

// parseInt accepts what Redis's string2ll accepts: an optional minus and decimal digits,
// no spaces, no plus sign, no leading zeros, and not "-0".
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') || (len(b) > 1 && b[0] == '-' && b[1] == '0') {
		return 0, false
	}
	if b[0] == '+' || b[0] == ' ' {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}
