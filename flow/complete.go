package flow

import (
	"math"
	"sync/atomic"
)

// Completion: which entries of a ring are finished, that is, handed to every level that
// reads them, and every entry that processing them produced finished in its turn, down to
// the sinks. A connector that acknowledges its broker's records (an offset, an ack) may do so
// for finished entries only.
//
// Each port records, when its stage has processed a batch, a checkpoint (hi, out): every
// entry below hi of the port's ring has been processed, and everything it produced lies
// below out in the stage's own ring. The stage stores out, then hi, after the batch's
// outputs are committed and before it releases the batch; a reader that loads hi, then out,
// gets an out at least as late as hi's own, which can only make it wait longer, never
// acknowledge early. The cost on the stage's path is two atomic stores per batch.
//
// Finished entries are then computed on demand, from the leaves up: a ring's finished prefix
// is the least, over the ports that read it, of what each port has finished; a port of a stage
// without an output ring (a sink, a phase) has finished what it processed; a port of a
// processing stage has finished hi of the latest checkpoint whose out is finished in the
// stage's own ring. A checkpoint's out may run ahead of what the next levels have finished
// for a long time under steady load, so every evaluation keeps the checkpoints it sampled
// and settles the oldest first: none is lost, and the finished prefix moves as soon as
// the levels below catch up with any of them.

// checkpoint is what one port records for completion. hi and out are written by the stage
// and read by any goroutine; pending belongs to the graph's completion lock.
type checkpoint struct {
	hi, out atomic.Int64
	pending []span // sampled checkpoints, oldest first, not yet finished downstream
}

// span is one sampled checkpoint.
type span struct{ hi, out int64 }

// reader is one port that reads a ring, as completion sees it: its checkpoint, and the
// stage's own ring where its outputs go (next is nil for stages without one).
type reader struct {
	ck   *checkpoint
	next *level
	ring int
}

// mark records a port's checkpoint after its stage processed [.., hi): called by the stage
// before it releases the batch.
func (st *stage) mark(p *port, hi int64) {
	if st.out != nil {
		p.ck.out.Store(st.out.committed())
	}
	p.ck.hi.Store(hi)
}

// finished returns how many entries of ring j of lv are finished. It is safe from any
// goroutine while the graph runs and after it stops.
func (g *Graph) finished(lv *level, j int) int64 {
	g.completion.Lock()
	defer g.completion.Unlock()
	memo := map[ringKey]int64{}
	return g.finishedLocked(lv, j, memo)
}

type ringKey struct {
	lv *level
	j  int
}

func (g *Graph) finishedLocked(lv *level, j int, memo map[ringKey]int64) int64 {
	k := ringKey{lv, j}
	if v, ok := memo[k]; ok {
		return v
	}
	done := int64(math.MaxInt64)
	for _, rd := range lv.readers[j] {
		done = min(done, g.portFinished(rd, memo))
	}
	if len(lv.readers[j]) == 0 {
		done = 0 // not built (a failed Start): nothing is known to be finished
	}
	memo[k] = done
	return done
}

// portFinished returns how much of its ring the port rd has finished.
func (g *Graph) portFinished(rd reader, memo map[ringKey]int64) int64 {
	ck := rd.ck
	hi := ck.hi.Load()
	if rd.next == nil {
		return hi
	}
	out := ck.out.Load()
	if n := len(ck.pending); n == 0 || ck.pending[n-1].hi < hi {
		ck.pending = append(ck.pending, span{hi, out})
	}
	below := g.finishedLocked(rd.next, rd.ring, memo)
	done := int64(0)
	i := 0
	for ; i < len(ck.pending) && ck.pending[i].out <= below; i++ {
		done = ck.pending[i].hi
	}
	if i > 0 {
		// Keep the last finished checkpoint: it is what this port has finished until a
		// later one is.
		ck.pending = append(ck.pending[:0], ck.pending[i-1:]...)
	}
	if len(ck.pending) > maxPending {
		// The levels below are stuck while someone keeps asking: keep every other
		// checkpoint after the first. Merging two checkpoints into the later one is coarser,
		// never wrong.
		kept := ck.pending[:1]
		for i := 2; i < len(ck.pending); i += 2 {
			kept = append(kept, ck.pending[i])
		}
		ck.pending = append(kept, ck.pending[len(ck.pending)-1])
	}
	return done
}

// maxPending bounds the checkpoints a port keeps sampled.
const maxPending = 256
