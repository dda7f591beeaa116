package main

// assembler puts a connection's replies back in request order and merges the parts of
// split commands. It is owned by the connection's replier stage (or its waiter, see
// handoff; or, in the goroutine mode, the connection's goroutines under their mutex), so it
// needs no lock of its own.
//
// Replies of one connection reach the replier from several workers, and a worker's ring is
// read in its own order, so reply n+1 may come before reply n: it is held until n has been
// written. Held replies are bounded by what the client has in flight.
type assembler struct {
	next    uint64            // the sequence number of the next reply to write
	held    heldReplies       // complete replies that came before their turn
	merging map[uint64]*merge // split commands with parts still missing
	buf     outbuf            // encoded replies not written yet

	dirty    bool // buf has bytes, or the connection must be shut down or closed
	due      bool // buf holds every reply to one of the client's reads (request.flush)
	shutdown bool // a reply asked to end the connection (QUIT, protocol error)
	last     bool // the connection's last entry has had its turn: close the fd
	broken   bool // a write failed or the client was dropped: drop further output
	shutDone bool // shutdown has been called on the fd
}

// merge accumulates the parts of one split command.
type merge struct {
	got  uint32
	n    int64
	vals [][]byte
	err  []byte   // the first part that answered with an error decides the reply
	tx   *txMerge // EXEC: the merges of its commands
}

// txMerge accumulates the shares of a transaction: the parts of each of its commands,
// merged as those of a command outside a transaction are.
type txMerge struct {
	cmds    []merge // by command: its parts so far; made once a command has several
	out     []reply // by command: its whole reply once its last part has come
	aborted bool
}

// add takes one reply (or reply part) and appends to buf every reply whose turn has come.
// It reports whether the connection has something to do.
func (a *assembler) add(r reply) bool {
	if r.parts > 1 || r.kind >= replyMGet {
		flush := r.flush // every part carries it; the merge keeps only what whole copies
		var ok bool
		if r, ok = a.fold(r); !ok {
			return false
		}
		r.flush = flush
	}
	if r.seq != a.next {
		a.held.put(a.next, r)
		return false
	}
	a.emit(r)
	for {
		h, ok := a.held.take(a.next)
		if !ok {
			break
		}
		a.emit(h)
	}
	return a.dirty
}

// heldReplies keeps the replies that came before their turn, each in the slot of its
// sequence number modulo a power-of-two window that grows to the widest gap seen. A map did
// this before, with an allocation per reply held: a reply is larger than a map keeps in
// place.
type heldReplies struct {
	slots []heldSlot
	n     int
}

type heldSlot struct {
	r  reply
	ok bool
}

// keepHeld is the largest window kept once nothing is held: a client that pipelined deeply
// once does not keep a wide one for its life.
const keepHeld = 64

// put holds r, whose turn comes after next's.
func (h *heldReplies) put(next uint64, r reply) {
	if r.seq < next {
		return // its turn has passed: never the case, as each reply comes once
	}
	if gap := r.seq - next; gap >= uint64(len(h.slots)) {
		h.grow(gap + 1)
	}
	h.slots[r.seq&uint64(len(h.slots)-1)] = heldSlot{r, true}
	h.n++
}

// take returns the reply held for seq, if any, and lets go of it.
func (h *heldReplies) take(seq uint64) (reply, bool) {
	if h.n == 0 {
		return reply{}, false
	}
	s := &h.slots[seq&uint64(len(h.slots)-1)]
	if !s.ok || s.r.seq != seq {
		return reply{}, false
	}
	r := s.r
	*s = heldSlot{}
	if h.n--; h.n == 0 && len(h.slots) > keepHeld {
		h.slots = nil
	}
	return r, true
}

// grow widens the window to at least span slots. Every reply held lies within span of the
// next turn, so each keeps a slot of its own.
func (h *heldReplies) grow(span uint64) {
	size := max(16, len(h.slots))
	for uint64(size) < span {
		size *= 2
	}
	slots := make([]heldSlot, size)
	for _, s := range h.slots {
		if s.ok {
			slots[s.r.seq&uint64(size-1)] = s
		}
	}
	h.slots = slots
}

// fold adds a part to its command's merge; when the last part arrives it returns the
// command's whole reply.
func (a *assembler) fold(r reply) (reply, bool) {
	if r.parts == 1 {
		return whole(r, nil)
	}
	if a.merging == nil {
		a.merging = make(map[uint64]*merge)
	}
	m := a.merging[r.seq]
	if m == nil {
		m = &merge{}
		a.merging[r.seq] = m
	}
	out, done := whole(r, m)
	if done {
		delete(a.merging, r.seq)
	}
	return out, done
}

// whole adds part r to m, the merge of its command's parts so far (nil for a command of one
// part), and returns the command's whole reply once r is its last part.
func whole(r reply, m *merge) (reply, bool) {
	if r.parts == 1 {
		switch {
		case r.kind < replyMGet:
			return r, true
		case r.kind != replyExec:
			// One part holds every key, in the command's order: nothing to merge.
			return finish(r, &merge{n: r.n, vals: r.vals}), true
		}
		m = &merge{}
	}
	m.got++
	m.n += r.n
	switch r.kind {
	case replyRaw:
		if m.err == nil {
			m.err = r.b
		}
	case replyMGet:
		if m.vals == nil {
			m.vals = make([][]byte, r.nkeys)
		}
		for i, k := range r.keys {
			m.vals[k-1] = r.vals[i] // MGET's keys start at args[1]
		}
	case replyExec:
		m.addShare(r.ex)
	}
	if m.got < r.parts {
		return reply{}, false
	}
	return finish(r, m), true
}

// addShare merges one shard's share of a transaction: each command's reply, or its part
// of a command split across shards.
func (m *merge) addShare(ex *execPart) {
	t := m.tx
	if t == nil {
		t = &txMerge{out: make([]reply, ex.t.n)}
		for i, raw := range ex.t.raws {
			if raw != nil {
				t.out[i] = reply{kind: replyRaw, b: raw}
			}
		}
		m.tx = t
	}
	t.aborted = t.aborted || ex.aborted
	for _, r := range ex.subs {
		var cm *merge
		if r.parts > 1 {
			if t.cmds == nil {
				t.cmds = make([]merge, len(t.out))
			}
			cm = &t.cmds[r.seq]
		}
		if w, done := whole(r, cm); done {
			t.out[r.seq] = w
		}
	}
}

// finish turns the last part of a command and its merge into the command's reply.
func finish(r reply, m *merge) reply {
	if m.err != nil {
		r.kind, r.b = replyRaw, m.err
		return r
	}
	switch r.kind {
	case replySum:
		r.kind = replyInt
		r.n = m.n
	case replyAllOK:
		r.kind, r.b = replyRaw, replyOK
	case replyDone:
		r.kind = replyRaw // b: every part carries the same reply
	case replyMGet:
		r.kind, r.vals = replyMGet, m.vals
	case replyExec:
		r.ex = &execPart{t: r.ex.t, subs: m.tx.out, aborted: m.tx.aborted}
	}
	return r
}

// emit encodes a reply whose turn has come.
func (a *assembler) emit(r reply) {
	a.next++
	a.due = a.due || r.flush
	if r.closeConn {
		a.last, a.dirty = true, true
	}
	if a.broken || a.shutdown {
		return // nothing more is written after a failed write or a QUIT
	}
	a.dirty = true
	a.encode(&r)
	if r.closeAfter {
		a.shutdown = true
	}
}

// encode appends a whole reply to buf; EXEC's is an array of its commands' replies, or the
// null array when a watched key had changed.
func (a *assembler) encode(r *reply) {
	switch r.kind {
	case replyRaw:
		a.buf.write(r.b)
	case replyBulk:
		a.writeValue(r.b, r.resp3)
	case replyInt:
		a.buf.writeInt(r.n)
	case replyMGet:
		a.buf.writeArrayHeader(len(r.vals))
		for _, v := range r.vals {
			a.writeValue(v, r.resp3)
		}
	case replyExec:
		if r.ex.aborted {
			if r.resp3 {
				a.buf.write(replyNull)
			} else {
				a.buf.write(replyNilArray)
			}
			return
		}
		a.buf.writeArrayHeader(len(r.ex.subs))
		for i := range r.ex.subs {
			a.encode(&r.ex.subs[i])
		}
	}
}

// writeValue encodes a value, or the protocol's null for a missing one (nil).
func (a *assembler) writeValue(v []byte, resp3 bool) {
	if v == nil && resp3 {
		a.buf.write(replyNull)
		return
	}
	a.buf.writeBulk(v)
}

// wrote records that the first n pending bytes were written.
func (a *assembler) wrote(n int) {
	a.buf.wrote(n)
	if a.buf.len() == 0 {
		a.dirty, a.due = false, false
	}
}

// written records that everything pending was written.
func (a *assembler) written() {
	a.buf.reset()
	a.dirty, a.due = false, false
}

// discard drops every reply not written yet and every reply to come, and lets go of the
// buffer: the client is being dropped. Held replies stay until their turn, so that the
// connection's last entry still has its turn and closes the fd.
func (a *assembler) discard() {
	a.broken = true
	a.buf = outbuf{}
}
