package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/loopyring/loopyring/flow"
	"github.com/loopyring/loopyring/flow/kafka"
	"github.com/twmb/franz-go/pkg/kgo"
)

// delta is what a counting stage emits: a word and how often one batch held it. The output
// topic holds a record per delta, keyed by the word; a word's count is the sum of its
// records' values.
type delta struct {
	word string
	n    int
}

// buildWorker adds a worker's levels to g:
//
//	kafka.Source (1 group member) → decode → split (Expand) → KeyBy(word) → count (Stateful) → kafka.Sink
//
// src is the source's configuration, into which the caller put the group, the hooks and
// the client options. Every counting stage adds what it counted to t.
func buildWorker(g *flow.Graph, src kafka.SourceConfig, sink kafka.SinkConfig, splitters, counters int, t *tally) {
	lines := kafka.Source(g, 1, src, func(r *kgo.Record) (string, error) {
		return string(r.Value), nil
	}, flow.Name("decode"))
	words := lines.Expand(splitters, func(l string, e *flow.Emitter[string]) {
		forEachWord(l, e.Emit)
	}, flow.Name("split"))
	// A counting stage emits each batch's counts before its function returns, so a line is
	// finished, and its offset committed, only once the counts of its words are on the
	// output topic: at least once. Keeping running totals in the stage and emitting them on
	// a timer was rejected: the source would commit past lines whose counts were still only
	// in the stage's memory, and a crash would lose them (see "At least once" in go doc
	// flow/kafka). The state is the stage's scratch map, reused batch after batch.
	deltas := words.KeyBy(wordKey).Stateful(counters, flow.Stateful[string, map[string]int, delta]{
		Init: func(*flow.Stage, *flow.Emitter[delta]) (map[string]int, error) {
			return map[string]int{}, nil
		},
		Batch: func(batch map[string]int, b *flow.Batch[string], e *flow.Emitter[delta]) error {
			for _, w := range b.All() {
				batch[*w]++
			}
			for w, n := range batch {
				e.Emit(delta{w, n})
			}
			t.add(batch)
			clear(batch)
			return nil
		},
	}, flow.Name("count"))
	kafka.Sink(deltas, 1, sink, func(d delta) (*kgo.Record, error) {
		return &kgo.Record{Key: []byte(d.word), Value: strconv.AppendInt(nil, int64(d.n), 10)}, nil
	}, flow.Name("produce"))
}

// tally is what a worker's counting stages counted, for its status line. The stages add a
// batch at a time under mu; the status reads it.
type tally struct {
	mu     sync.Mutex
	counts map[string]int64
	words  int64
}

func newTally() *tally { return &tally{counts: map[string]int64{}} }

func (t *tally) add(batch map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for w, n := range batch {
		t.counts[w] += int64(n)
		t.words += int64(n)
	}
}

// summary says how many words were counted, and the n most frequent.
func (t *tally) summary(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.words == 0 {
		return "counted 0 words"
	}
	return fmt.Sprintf("counted %d words: %s", t.words, topWords(t.counts, n))
}

// topWords formats the n most frequent words of counts, ties broken by the word.
func topWords(counts map[string]int64, n int) string {
	type wc struct {
		w string
		n int64
	}
	all := make([]wc, 0, len(counts))
	for w, c := range counts {
		all = append(all, wc{w, c})
	}
	slices.SortFunc(all, func(a, b wc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.w, b.w)
	})
	out := ""
	for i, x := range all[:min(n, len(all))] {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", x.w, x.n)
	}
	return out
}
