package main

import "sync"

// Commands that span shards (MGET, MSET, DEL and EXISTS whose keys fall on several shards,
// DBSIZE and FLUSHALL) run as one part per shard, each on the worker that owns its shard,
// at whatever moment each worker reaches it. Alone, that lets an MGET read one shard
// before a concurrent MSET and another after it. Redis runs one command at a time, so no
// client can see half of a command; this server gives the same guarantee with a total
// order of the commands that span shards, which every shard follows:
//
//   - The parser stamps each part of such a command with the next number of its shard's
//     sequence (mseq), taking the numbers of all the command's shards under one lock
//     (sequencer). So any two commands meet in the same order on every shard they share.
//   - A worker runs the parts of each of its shards in mseq order (shardOrder). A part that
//     arrives before its turn (another parser has taken an earlier number and not yet
//     published it) is held, and so is every later request of its connection on this
//     worker, which keeps the connection's own order; other connections go on.
//
// Single-shard commands, the fast path, take no number and no lock: a worker runs them as
// they come. They touch one shard, so they cannot see or leave a command half done, and
// any interleaving of them with a total order of the multi-shard commands is a serial
// order of all the commands (a cycle would need two shards to disagree on the order of two
// multi-shard commands).
//
// Per-key intent locks in the style of VLL were the alternative: a part would lock its keys
// at its shard and run once every part of its command holds its locks. They need the same
// agreed order to avoid deadlock, plus a second round between shards (lock, then run), and
// they would let commands on disjoint keys of the same shards overlap, which one worker
// per shard cannot make use of anyway. A separate sequencer stage was rejected because
// a connection's requests would then reach a shard by two paths, through the sequencer and
// around it, and the worker would have to rebuild the connection's order; stamping in the
// parser keeps one path per connection.

// sequencer hands out the per-shard sequence numbers of multi-shard commands. It is shared
// by the parser stages; its lock is taken once per multi-shard command, never by a
// single-shard one. The zero value is not usable: use newSequencer.
type sequencer struct {
	mu   sync.Mutex
	next []uint64 // by shard
}

func newSequencer(shards int) *sequencer { return &sequencer{next: make([]uint64, shards)} }

// stamp sets seqs[i] to the next number of shards[i], for every shard of one command at
// once.
func (q *sequencer) stamp(shards []uint32, seqs []uint64) {
	q.mu.Lock()
	for i, s := range shards {
		seqs[i] = q.next[s]
		q.next[s]++
	}
	q.mu.Unlock()
}

// ordered reports whether a request is a part of a command that spans shards, which runs
// in its shard's mseq order.
func (r *request) ordered() bool { return r.parts > 1 }

// partKey names one multi-shard part: its shard and its number there.
type partKey struct {
	shard uint32
	mseq  uint64
}

// shardOrder is one worker's side of the order: for each shard, the number of the next
// multi-shard part to run, and the requests held because a part came before its turn. It
// belongs to its worker stage, so it needs no lock.
//
// Progress: the multi-shard part that came first in the sequencer and has not run yet is
// always runnable once it has arrived. Every earlier number on its shard belongs to a
// command that came before it, so has run, and whatever its connection's queue holds
// before it is either a single-shard request or a part of an earlier command of the same
// connection, which has run too.
type shardOrder struct {
	next map[uint32]uint64   // by shard: the number its next multi-shard part carries
	held map[*conn][]request // by connection: requests waiting, in the connection's order
	due  map[partKey]*conn   // which connection holds each waiting part
}

func newShardOrder() shardOrder {
	return shardOrder{next: make(map[uint32]uint64), held: make(map[*conn][]request), due: make(map[partKey]*conn)}
}

// add takes one request and runs it, and every held request it frees, in an order that
// follows the shards' sequences and each connection's order.
func (o *shardOrder) add(r *request, run func(*request)) {
	if len(o.held) > 0 {
		if q, ok := o.held[r.c]; ok { // the connection waits here: r waits behind it
			o.held[r.c] = append(q, *r)
			if r.ordered() {
				o.due[partKey{r.shard, r.mseq}] = r.c
			}
			return
		}
	}
	if !r.ordered() {
		run(r) // the fast path: one shard, no order to keep but the connection's
		return
	}
	if r.mseq != o.next[r.shard] {
		o.held[r.c] = []request{*r}
		o.due[partKey{r.shard, r.mseq}] = r.c
		return
	}
	o.runPart(r, run)
}

// runPart runs a multi-shard part whose turn has come, then the held requests that turns
// free, until none is due.
func (o *shardOrder) runPart(r *request, run func(*request)) {
	run(r)
	o.next[r.shard]++
	for freed := true; freed && len(o.due) > 0; {
		freed = false
		for shard, n := range o.next { // one shard per worker by default
			if c, ok := o.due[partKey{shard, n}]; ok && o.resume(c, run) {
				freed = true
			}
		}
	}
}

// resume runs a connection's held requests, from the first, until it meets a part whose
// turn has not come, and reports whether it ran any. (The part that came due may wait
// behind a part of another shard that has not: with several shards per worker.)
func (o *shardOrder) resume(c *conn, run func(*request)) bool {
	q := o.held[c]
	i := 0
	for ; i < len(q); i++ {
		r := &q[i]
		if r.ordered() {
			if r.mseq != o.next[r.shard] {
				break
			}
			delete(o.due, partKey{r.shard, r.mseq})
			o.next[r.shard]++
		}
		run(r)
	}
	clear(q[:i]) // the requests run hold arguments
	if i == len(q) {
		delete(o.held, c)
	} else {
		o.held[c] = q[i:]
	}
	return i > 0
}

// waiting returns how many requests are held.
func (o *shardOrder) waiting() int {
	n := 0
	for _, q := range o.held {
		n += len(q)
	}
	return n
}
