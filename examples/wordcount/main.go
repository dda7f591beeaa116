// Command wordcount prints the most frequent words of a text file, counted by a flow
// pipeline (read → split → count by key → merge) or, for comparison, by the same pipeline
// built from goroutines and channels.
//
//	go run ./examples/wordcount -file book.txt -top 20
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	cfg := DefaultConfig
	path := flag.String("file", "", "text file to count (default: standard input)")
	top := flag.Int("top", 10, "how many words to print")
	impl := flag.String("impl", "flow", "pipeline: flow or chan")
	flag.IntVar(&cfg.Splitters, "splitters", cfg.Splitters, "splitter stages")
	flag.IntVar(&cfg.Counters, "counters", cfg.Counters, "counter stages")
	flag.IntVar(&cfg.ChunkSize, "chunk", cfg.ChunkSize, "bytes per chunk")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := run(ctx, os.Stdout, os.Stdin, *path, *impl, *top, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(1)
	}
}

// run counts the words of the file at path (stdin when path is empty) with the named
// pipeline and writes the top n to w.
func run(ctx context.Context, w io.Writer, stdin io.Reader, path, impl string, n int, cfg Config) error {
	count := countFlow
	switch impl {
	case "flow":
	case "chan":
		count = countChan
	default:
		return fmt.Errorf("unknown pipeline %q: want flow or chan", impl)
	}
	r, name := stdin, "standard input"
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r, name = f, path
	}
	counts, err := count(ctx, r, cfg)
	if err != nil {
		return err
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	fmt.Fprintf(w, "%d words, %d distinct, in %s (counted by %s)\n", total, len(counts), name, impl)
	for _, wc := range topN(counts, n) {
		fmt.Fprintf(w, "%8d %s\n", wc.Count, wc.Word)
	}
	return nil
}
