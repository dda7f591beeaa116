//go:build linux || darwin || freebsd

package main

func graphStores(s server) []*store { return s.(*graphServer).stores }

func graphConns(s server) int { return s.(*graphServer).conns.len() }

// graphQueued is the output the reply stages hold for clients that are not reading.
func graphQueued(s server) int64 {
	gs, ok := s.(*graphServer)
	if !ok {
		return 0
	}
	n := int64(0)
	for i := range gs.repliers {
		if w := gs.repliers[i].w; w != nil {
			n += w.queued.Load()
		}
	}
	return n
}

// graphHeld is how many connections the reply stages' waiters hold.
func graphHeld(s server) int {
	gs, ok := s.(*graphServer)
	if !ok {
		return 0
	}
	gs.conns.mu.Lock()
	defer gs.conns.mu.Unlock()
	n := 0
	for _, c := range gs.conns.conns {
		if c.slow.on.Load() {
			n++
		}
	}
	return n
}
