package main

import (
	"context"
	"errors"
	"io"
	"sync"
)

// countChan is countFlow written with goroutines and buffered channels, as a Go programmer
// would write it without flow: one reader goroutine, Splitters splitter goroutines sharing
// one chunk channel, and Counters counter goroutines, each with its own word channel that the
// splitters route to by key. The buffers match countFlow's rings: ChunkRing chunks between
// reader and splitters, and Splitters×WordRing words between splitters and counters (flow
// gives each splitter a ring of WordRing), spread over the counters' channels.
func countChan(ctx context.Context, r io.Reader, cfg Config) (map[string]int, error) {
	cs, err := countChanStages(ctx, r, cfg)
	if err != nil {
		return nil, err
	}
	return merge(cs), nil
}

// countChanStages runs the goroutines and returns each counter's own counts.
func countChanStages(ctx context.Context, r io.Reader, cfg Config) ([]*counter, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	chunks := make(chan []byte, cfg.ChunkRing)
	words := make([]chan word, cfg.Counters)
	for i := range words {
		words[i] = make(chan word, max(cfg.Splitters*cfg.WordRing/cfg.Counters, 1))
	}
	var readErr error // written by the reader before it closes chunks; read after wg.Wait
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(chunks)
		ch := newChunker(r, cfg.ChunkSize)
		for {
			c, err := ch.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				readErr = err
				return
			}
			select {
			case chunks <- c:
			case <-ctx.Done():
				readErr = ctx.Err()
				return
			}
		}
	})
	var splitters sync.WaitGroup
	for range cfg.Splitters {
		splitters.Go(func() {
			n := uint64(len(words))
			for c := range chunks {
				splitWords(c, func(w word) { words[w.key%n] <- w })
			}
		})
	}
	wg.Go(func() {
		splitters.Wait()
		for _, c := range words {
			close(c)
		}
	})
	counters := make([]*counter, cfg.Counters)
	for i := range counters {
		c := newCounter()
		counters[i] = c
		wg.Go(func() {
			for w := range words[i] {
				c.add(w.text)
			}
		})
	}
	wg.Wait()
	if readErr != nil {
		return nil, readErr
	}
	return counters, nil
}
