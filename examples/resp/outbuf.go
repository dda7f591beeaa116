package main

import "strconv"

// outbuf is a connection's output not written yet: byte slices written in order, several
// at a time (writev). Small replies are encoded into a buffer of its own, the tail; a large
// value is not copied but referred to where the store keeps it, since the store never
// writes into a value it has handed out (store.go). So a reply of a large value costs a
// slice header rather than a copy, and a client that pipelines GETs of one and leaves them
// unread costs the server as many slice headers, however large the value.
//
// The zero value is an empty buffer. It belongs to the connection's replier (or
// goroutine).
type outbuf struct {
	segs  [][]byte // segs[head:] are pending
	head  int
	owned bool   // segs[len(segs)-1] is a buffer of ours, which small replies go into
	n     int    // pending bytes
	spare []byte // an emptied tail, kept for the next replies
}

// refMin is the smallest value referred to rather than copied: below it a copy costs less
// than the extra slices to write.
const refMin = 16 << 10

// maxSpare is the largest tail kept for the next replies once written: a larger one would
// stay with the connection for its life.
const maxSpare = 1 << 20

func (o *outbuf) len() int { return o.n }

// pending returns the slices to write, in order. They are the buffer's: the caller may
// write them, not change them.
func (o *outbuf) pending() [][]byte { return o.segs[o.head:] }

// tail returns the buffer small replies are appended to; setTail stores it back.
func (o *outbuf) tail() []byte {
	if o.owned {
		return o.segs[len(o.segs)-1]
	}
	b := o.spare[:0]
	o.spare = nil
	o.segs = append(o.segs, b)
	o.owned = true
	return b
}

func (o *outbuf) setTail(b []byte) {
	last := &o.segs[len(o.segs)-1]
	o.n += len(b) - len(*last)
	*last = b
}

func (o *outbuf) write(p []byte) { o.setTail(append(o.tail(), p...)) }

func (o *outbuf) writeInt(n int64) { o.setTail(appendInt(o.tail(), n)) }

func (o *outbuf) writeArrayHeader(n int) { o.setTail(appendArrayHeader(o.tail(), n)) }

// writeBulk encodes v as a bulk string, referring to v itself when it is large.
func (o *outbuf) writeBulk(v []byte) {
	if len(v) < refMin {
		o.setTail(appendBulk(o.tail(), v))
		return
	}
	b := append(o.tail(), '$')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	o.setTail(append(b, '\r', '\n'))
	o.segs = append(o.segs, v)
	o.owned = false
	o.n += len(v)
	o.write(crlf)
}

var crlf = []byte("\r\n")

// wrote drops the first k pending bytes, which have been written.
func (o *outbuf) wrote(k int) {
	if k >= o.n {
		o.reset()
		return
	}
	o.n -= k
	for k > 0 {
		s := o.segs[o.head]
		if k < len(s) {
			o.segs[o.head] = s[k:]
			break
		}
		k -= len(s)
		o.segs[o.head] = nil // a written value is no longer held
		o.head++
	}
	if o.head > len(o.segs)/2 {
		o.segs = o.segs[:copy(o.segs, o.segs[o.head:])]
		clear(o.segs[len(o.segs) : len(o.segs)+o.head])
		o.head = 0
	}
}

// reset empties the buffer, keeping a modest tail for the next replies.
func (o *outbuf) reset() {
	if o.owned {
		if t := o.segs[len(o.segs)-1]; cap(t) <= maxSpare {
			o.spare = t[:0]
		}
	}
	clear(o.segs)
	o.segs, o.head, o.owned, o.n = o.segs[:0], 0, false, 0
	if cap(o.segs) > maxSegs {
		o.segs = nil
	}
}

// maxSegs is the most slices whose room is kept once the buffer is empty.
const maxSegs = 1024
