package main

import "sync"

// readPool recycles read buffers between the listeners, which fill them, and the parsers,
// which copy the arguments out and return them, so steady reading allocates nothing. It
// keeps at most max buffers and lets the garbage collector have the rest.
//
// The bound matters after a burst. A client uploading a large request faster than it is
// parsed fills the rings with buffers, as many as the rings hold, and all of them come back
// to the pool. sync.Pool, used before, keeps whatever it is given until two garbage
// collections have passed, and a server that has gone quiet runs none (the runtime forces
// one every two minutes), so the burst's memory stayed after the connection had closed.
// A mutex per buffer costs little next to the read(2) that fills it.
type readPool struct {
	mu   sync.Mutex
	free []*[]byte
	max  int
	made int // buffers allocated, for tests: more than max means the bound has dropped some
}

// maxPooledReads is how many read buffers the pool keeps: enough for every listener to
// have several reads in flight at once.
const maxPooledReads = 256

func newReadPool(max int) *readPool { return &readPool{max: max} }

func (p *readPool) get() *[]byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b
	}
	p.made++
	p.mu.Unlock()
	b := make([]byte, readSize)
	return &b
}

func (p *readPool) put(b *[]byte) {
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}

// retained returns the bytes the pool holds, and how many buffers it has made.
func (p *readPool) retained() (bytes, made int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.free) * readSize, p.made
}
