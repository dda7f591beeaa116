package ring

import "math"

// The gating set: which readers hold the publishers back, and which waiters a
// Commit wakes. Both follow from the reader graph, which is fixed before the
// first claim so that the hot paths can read them without locks.

// freeze fixes the reader graph before the first claim (or Close): which
// readers gate the publisher and which waiters Commit wakes. Later NewReader
// calls fail.
func (c *core) freeze() {
	if c.started.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started.Load() {
		return
	}
	for _, r := range c.readers {
		if len(r.upstream) == 0 {
			c.roots = append(c.roots, r.waiter)
		}
		if len(r.downstream) == 0 {
			r.gating = true
			c.gates = append(c.gates, &r.seq)
		}
	}
	c.phasedRoots = phasedWaiters(c.roots)
	c.lightCommit = c.lightStores && c.phasedRoots != nil
	c.started.Store(true)
}

// minGate returns the lowest released sequence among the gating readers, or
// def when nothing gates the publisher.
func (c *core) minGate(def int64) int64 {
	if len(c.gates) == 0 {
		return def
	}
	low := int64(math.MaxInt64)
	for _, g := range c.gates {
		low = min(low, g.v.Load())
	}
	return low
}

// length backs Len: the committed entries the slowest gating reader has not
// released. The publisher's side is read before the readers': gates only grow,
// so a cursor read first is at most one capacity ahead of any gate read after
// it, and the snapshot never exceeds the ring (reading the gate first let a
// reader release and the publisher refill in between, and Len then reported
// more entries than the ring holds).
func (c *core) length() int {
	if !c.started.Load() || len(c.gates) == 0 {
		return 0
	}
	end, _ := c.final()
	if !c.multi {
		end = c.cursor.v.Load()
	}
	low := c.minGate(end)
	if c.multi {
		end = c.scanAvail(low, end)
	}
	return int(min(max(end-low, 0), c.size))
}

// phasedWaiters returns ws as *PhasedWaiters if every one is, else nil.
func phasedWaiters(ws []Waiter) []*PhasedWaiter {
	pws := make([]*PhasedWaiter, len(ws))
	for i, w := range ws {
		pw, ok := w.(*PhasedWaiter)
		if !ok {
			return nil
		}
		pws[i] = pw
	}
	return pws
}
