package bench

import (
	"context"

	"github.com/loopyring/loopyring/flow"
)

// flushEvery is how many entries a flow source emits between flushes. Without flushes a
// source commits only when its ring fills, so readers would see nothing until a whole ring
// is written; flushing every 256 entries (flow's default MaxBatch) keeps entries visible
// promptly, as a channel send makes them, while still committing with one store per run.
const flushEvery = 256

// source adds the single publisher of the flow topologies: one source stage that waits for
// release, then emits seqs 0..N-1 and finishes.
func source(g *flow.Graph, cfg Config, release <-chan struct{}) *flow.Stream[payload] {
	return flow.Source(g, 1, func(s *flow.SourceStage[payload]) error {
		<-release
		for i := range int64(cfg.N) {
			if err := s.Emit(newPayload(i, 0, cfg.corrupt)); err != nil {
				return err
			}
			if i%flushEvery == flushEvery-1 {
				s.Flush()
			}
		}
		s.Finish()
		return nil
	}, flow.Capacity(cfg.capacity()), flow.Name("publisher"))
}

// hop is the work of a flow stage that passes entries on.
func hop(p payload) payload {
	p.hop()
	return p
}

// verifyBatch returns a batch sink function that checks every entry in place, with one
// verifier per stage of the sink level.
func verifyBatch(vs []*verifier) func(*flow.Batch[payload]) error {
	return func(bt *flow.Batch[payload]) error {
		v := vs[bt.Stage().Index()]
		for i := range bt.Len() {
			v.see(bt.At(i))
		}
		return nil
	}
}

// runGraph starts g, times it from release until every source has finished and the graph
// has drained, and returns the graph's error.
func runGraph(g *flow.Graph, m *meter, release chan struct{}, n int) error {
	if err := g.Start(context.Background()); err != nil {
		return err
	}
	m.start()
	close(release)
	err := g.Wait()
	m.stop(n)
	return err
}
