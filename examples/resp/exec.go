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
	out := reply{c: r.c, seq: r.seq, part: r.part, parts: r.parts, closeAfter: r.closeAfter, closeConn: r.closeConn}
	if r.cmd == nil {
		out.b = r.raw
		return out
	}
	var clk clock
	args := r.args
	switch r.cmd.id {
	case cmdGet:
		it, _ := st.get(args[1], &clk)
		out.kind, out.b = replyBulk, it.val
	case cmdSet:
		out.b = set(st, args, &clk)
	case cmdIncr:
		return incrBy(out, st, args[1], 1, &clk)
	case cmdDecr:
		return incrBy(out, st, args[1], -1, &clk)
	case cmdIncrBy, cmdDecrBy:
		d, ok := parseInt(args[2])
		if !ok || (r.cmd.id == cmdDecrBy && d == math.MinInt64) {
			out.b = errNotInt
			return out
		}
		if r.cmd.id == cmdDecrBy {
			d = -d
		}
		return incrBy(out, st, args[1], d, &clk)
	case cmdExpire, cmdPExpire:
		out.b = expire(st, args, r.cmd, &clk)
	case cmdTTL, cmdPTTL:
		out.kind, out.n = replyInt, ttl(st, args[1], r.cmd.id == cmdPTTL, &clk)
	case cmdDel, cmdExists:
		out.kind = replySum
		for _, k := range r.keys {
			if _, ok := st.get(args[k], &clk); ok {
				out.n++
				if r.cmd.id == cmdDel {
					st.del(args[k])
				}
			}
		}
	case cmdMGet:
		out.kind, out.keys, out.nkeys = replyMGet, r.keys, len(args)-1
		out.vals = make([][]byte, len(r.keys))
		for i, k := range r.keys {
			it, _ := st.get(args[k], &clk)
			out.vals[i] = it.val
		}
	case cmdMSet:
		out.kind = replyAllOK
		for _, k := range r.keys {
			st.set(args[k], item{val: args[k+1]})
		}
	case cmdDBSize:
		out.kind, out.n = replySum, st.size(&clk)
	case cmdFlushAll:
		if len(args) > 2 || (len(args) == 2 && !equalFold(args[1], "sync") && !equalFold(args[1], "async")) {
			out.b = errSyntax
			return out
		}
		out.kind = replyAllOK
		st.flush()
	default:
		out.b = errorReply("ERR command '" + r.cmd.name + "' has no executor")
	}
	return out
}

// set runs SET key value [NX|XX] [EX seconds|PX milliseconds|KEEPTTL].
func set(st *store, args [][]byte, clk *clock) []byte {
	var nx, xx, keep bool
	var ttl int64 // nanoseconds; 0: none
	for i := 3; i < len(args); i++ {
		a := args[i]
		switch {
		case equalFold(a, "nx") && !xx:
			nx = true
		case equalFold(a, "xx") && !nx:
			xx = true
		case equalFold(a, "keepttl") && ttl == 0:
			keep = true
		case (equalFold(a, "ex") || equalFold(a, "px")) && ttl == 0 && !keep && i+1 < len(args):
			n, ok := parseInt(args[i+1])
			if !ok {
				return errNotInt
			}
			unit := int64(1e6)
			if equalFold(a, "ex") {
				unit = 1e9
			}
			if n <= 0 || n > math.MaxInt64/unit/2 {
				return errorReply("ERR invalid expire time in 'set' command")
			}
			ttl = n * unit
			i++
		default:
			return errSyntax
		}
	}
	old, exists := st.get(args[1], clk)
	if (nx && exists) || (xx && !exists) {
		return replyNil
	}
	it := item{val: args[2]}
	switch {
	case ttl != 0:
		it.exp = clk.now() + ttl
	case keep:
		it.exp = old.exp
	}
	st.set(args[1], it)
	return replyOK
}

func incrBy(out reply, st *store, key []byte, d int64, clk *clock) reply {
	it, ok := st.get(key, clk)
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
	st.set(key, item{val: strconv.AppendInt(nil, v, 10), exp: it.exp})
	out.kind, out.n = replyInt, v
	return out
}

// expire runs EXPIRE key seconds and PEXPIRE key milliseconds; a deadline in the past
// deletes the key, as in Redis.
func expire(st *store, args [][]byte, cmd *command, clk *clock) []byte {
	n, ok := parseInt(args[2])
	if !ok {
		return errNotInt
	}
	unit := int64(1e6)
	if cmd.id == cmdExpire {
		unit = 1e9
	}
	if n > math.MaxInt64/unit/2 || n < math.MinInt64/unit/2 {
		return errorReply("ERR invalid expire time in '" + cmd.name + "' command")
	}
	it, exists := st.get(args[1], clk)
	if !exists {
		return replyZero
	}
	if n <= 0 {
		st.del(args[1])
		return replyOne
	}
	it.exp = clk.now() + n*unit
	st.set(args[1], it)
	return replyOne
}

// ttl returns the remaining time to live in seconds (rounded as Redis rounds) or
// milliseconds, -1 for a key without one and -2 for a missing key.
func ttl(st *store, key []byte, ms bool, clk *clock) int64 {
	it, ok := st.get(key, clk)
	switch {
	case !ok:
		return -2
	case it.exp == 0:
		return -1
	}
	left := (it.exp - clk.now()) / 1e6
	if ms {
		return left
	}
	return (left + 500) / 1000
}

// parseInt accepts what Redis's string2ll accepts: an optional minus and decimal digits,
// no spaces, no plus sign, no leading zeros.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') || (len(b) > 2 && b[0] == '-' && b[1] == '0') {
		return 0, false
	}
	if b[0] == '+' || b[0] == ' ' {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}
