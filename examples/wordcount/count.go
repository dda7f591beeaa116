package main

import (
	"cmp"
	"slices"
)

// counter counts the words one counter stage (or goroutine) owns.
type counter struct {
	// counts maps a word to its count. A pointer per word lets add look up with string(b),
	// which the compiler does without allocating; map[string]int was rejected because its
	// increment m[string(b)]++ copies the key on every call.
	counts map[string]*int
}

func newCounter() *counter { return &counter{counts: make(map[string]*int)} }

func (c *counter) add(b []byte) {
	if p := c.counts[string(b)]; p != nil {
		*p++
		return
	}
	n := 1
	c.counts[string(b)] = &n
}

// merge combines the counters' maps into one.
func merge(cs []*counter) map[string]int {
	size := 0
	for _, c := range cs {
		size += len(c.counts)
	}
	out := make(map[string]int, size)
	for _, c := range cs {
		for w, n := range c.counts {
			out[w] += *n
		}
	}
	return out
}

// WordCount is one line of the result.
type WordCount struct {
	Word  string
	Count int
}

// topN returns the n most frequent words, most frequent first, ties broken by the word in
// byte order, so the result does not depend on map iteration order.
func topN(counts map[string]int, n int) []WordCount {
	all := make([]WordCount, 0, len(counts))
	for w, c := range counts {
		all = append(all, WordCount{w, c})
	}
	slices.SortFunc(all, func(a, b WordCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Word, b.Word)
	})
	return all[:min(max(n, 0), len(all))]
}
