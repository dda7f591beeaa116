package main

import "fmt"

// Config sizes a word-count pipeline. The flow and the channel versions read the same
// Config, so they run the same number of stages with the same buffer sizes.
type Config struct {
	Splitters int // stages (goroutines) that split chunks into words
	Counters  int // stages that count; each owns the words whose key routes to it
	ChunkSize int // bytes the reader aims to put in one chunk
	ChunkRing int // chunks buffered between the reader and the splitters: a power of two
	WordRing  int // words buffered behind each splitter: a power of two
}

// DefaultConfig suits the 2-core machines this project is developed on: five stages in all.
var DefaultConfig = Config{Splitters: 2, Counters: 2, ChunkSize: 64 << 10, ChunkRing: 16, WordRing: 8192}

func (c Config) validate() error {
	if c.Splitters < 1 || c.Counters < 1 || c.ChunkSize < 1 {
		return fmt.Errorf("wordcount: splitters %d, counters %d and chunk size %d must all be at least 1",
			c.Splitters, c.Counters, c.ChunkSize)
	}
	for _, n := range []int{c.ChunkRing, c.WordRing} {
		if n < 2 || n&(n-1) != 0 {
			return fmt.Errorf("wordcount: buffer size %d is not a power of two of at least 2", n)
		}
	}
	return nil
}
