package main

import (
	"context"
	"errors"
	"io"

	"github.com/loopyring/loopyring/flow"
)

// countFlow counts the words of r with a flow graph:
//
//	read (1 source stage) → split (Splitters stages) → KeyBy(word) → count (Counters stages)
//
// and merges the counters' maps once the graph has finished.
func countFlow(ctx context.Context, r io.Reader, cfg Config) (map[string]int, error) {
	cs, err := countFlowStages(ctx, r, cfg)
	if err != nil {
		return nil, err
	}
	return merge(cs), nil
}

// countFlowStages runs the graph and returns each counter stage's own counts, which KeyBy
// makes disjoint.
func countFlowStages(ctx context.Context, r io.Reader, cfg Config) ([]*counter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := flow.New()
	chunks := flow.Source(g, 1, func(s *flow.SourceStage[[]byte]) error {
		ch := newChunker(r, cfg.ChunkSize)
		for {
			c, err := ch.next()
			if errors.Is(err, io.EOF) {
				s.Finish() // the graph stops by itself once every word is counted
				return nil
			}
			if err != nil {
				return err // the graph stops, and Wait returns this error
			}
			// Publish commits at once: a chunk is large enough that one commit (and at most one
			// wakeup) per chunk costs nothing, and the splitters start on it without waiting.
			if err := s.Publish(c); err != nil {
				return nil // the graph is stopping (the context ended); Wait reports why
			}
		}
	}, flow.Name("read"), flow.Capacity(cfg.ChunkRing))

	counters := make([]*counter, cfg.Counters)
	for i := range counters {
		counters[i] = newCounter()
	}
	chunks.Expand(cfg.Splitters, func(c []byte, e *flow.Emitter[word]) {
		splitWords(c, e.Emit)
	}, flow.Name("split"), flow.Capacity(cfg.WordRing)).
		KeyBy(func(w word) uint64 { return w.key }).
		SinkBatch(cfg.Counters, func(b *flow.Batch[word]) error {
			c := counters[b.Stage().Index()] // owned by this stage's goroutine
			for i := range b.Len() {
				c.add(b.At(i).text)
			}
			return nil
		}, flow.Name("count"))

	if err := g.Start(ctx); err != nil {
		return nil, err
	}
	// flow's promise: every call of a stage's function happens before Wait returns, so the
	// counters' maps are read here without further synchronization. flow has no end-of-stream
	// callback for processing stages; this is how the merge learns the final counts.
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return counters, nil
}
