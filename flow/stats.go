package flow

import "time"

// StageStats is a snapshot of one stage's counters. Counters are updated once per batch
// with plain atomic adds on the stage's own cache lines, cheap enough to leave on.
type StageStats struct {
	Level    string
	Stage    int
	CPU      int    // the CPU the stage is pinned to, or -1
	Mode     Mode   // Dedicated or Shared
	In       uint64 // entries in the input ranges the stage read (including those routed to siblings)
	Handled  uint64 // entries of the stage's own share that its function was given, those it failed or panicked on included
	Out      uint64 // entries published into the stage's ring
	Batches  uint64 // input ranges the stage read, those that held nothing of its share included
	Errors   uint64 // failures of user code, whatever the policy
	Blocked  uint64 // times the output ring was full
	Sleeps   uint64 // with an event loop (dedicated stages, sources): blocking waits in it; shared: waits for input
	Wakeups  uint64 // with an event loop: wakeups that had to write to the loop's wake fd; shared: 0
	Queue    int    // entries in the stage's own ring not yet released by all readers
	Capacity int    // the size of the stage's own ring (0 for sinks and phases)
	// Busy is the time the stage spent on its input batches: from the end of its last batch
	// or wait to the end of each batch. A source has no input batches, so its Busy stays 0.
	Busy time.Duration
}

// MeanBatch returns the mean number of entries per input range the stage read: In ÷
// Batches. Like In it counts the entries routed to the stage's siblings, so at a level of n
// stages under shared or key routing the batches its function received held about a nth of
// it (Handled ÷ Batches is the stage's own share).
func (s StageStats) MeanBatch() float64 {
	if s.Batches == 0 {
		return 0
	}
	return float64(s.In) / float64(s.Batches)
}

// Stats returns a snapshot of every stage, in level order. Before Start it is empty.
func (g *Graph) Stats() []StageStats {
	g.mu.Lock() // Start holds it while it builds the stages
	defer g.mu.Unlock()
	if g.state.Load() == stateBuilding {
		return nil
	}
	var out []StageStats
	for _, lv := range g.levels {
		for _, st := range lv.stages {
			s := StageStats{
				Level: lv.name, Stage: st.idx, CPU: st.cpu, Mode: st.mode,
				In: st.in.Load(), Handled: st.handled.Load(), Out: st.emitted.Load(), Batches: st.batches.Load(),
				Errors: st.errs.Load(), Blocked: st.blocked.Load(),
				Sleeps: st.sleeps.Load(),
				Busy:   time.Duration(st.busy.Load()),
			}
			if st.loop != nil {
				ls := st.loop.Stats()
				s.Sleeps, s.Wakeups = ls.Sleeps, ls.Wakeups
			}
			if st.ring != nil {
				s.Queue, s.Capacity = st.ring.Len(), st.ring.Cap()
			}
			out = append(out, s)
		}
	}
	return out
}
