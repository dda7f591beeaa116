package main

import (
	"context"
	"errors"
	"io"
	"sync"

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

	// Each counting stage owns a counter, made at Start; when its input ends it hands the
	// counter over. KeyBy makes the counters' words disjoint.
	var (
		mu       sync.Mutex
		counters []*counter
	)
	chunks.Expand(cfg.Splitters, func(c []byte, e *flow.Emitter[word]) {
		splitWords(c, e.Emit)
	}, flow.Name("split"), flow.Capacity(cfg.WordRing)).
		KeyBy(func(w word) uint64 { return w.key }).
		StatefulSink(cfg.Counters, flow.StatefulSink[word, *counter]{
			Init: func(*flow.Stage) (*counter, error) { return newCounter(), nil },
			Batch: func(c *counter, b *flow.Batch[word]) error {
				for _, w := range b.All() {
					c.add(w.text)
				}
				return nil
			},
			End: func(c *counter) error {
				mu.Lock()
				counters = append(counters, c)
				mu.Unlock()
				return nil
			},
		}, flow.Name("count"))

	if err := g.Start(ctx); err != nil {
		return nil, err
	}
	// Every End has run when Wait returns: the graph stops only after every stage has ended.
	if err := g.Wait(); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	return counters, nil
}
