package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTopN(t *testing.T) {
	counts := map[string]int{"b": 3, "a": 3, "c": 3, "z": 9, "y": 1, "é": 3, "x": 1}
	tests := []struct {
		n    int
		want []WordCount
	}{
		{0, []WordCount{}},
		{-1, []WordCount{}},
		{1, []WordCount{{"z", 9}}},
		// Ties are broken by the word, in byte order: "é" (0xC3 0xA9) sorts after ASCII.
		{5, []WordCount{{"z", 9}, {"a", 3}, {"b", 3}, {"c", 3}, {"é", 3}}},
		{100, []WordCount{{"z", 9}, {"a", 3}, {"b", 3}, {"c", 3}, {"é", 3}, {"x", 1}, {"y", 1}}},
	}
	for _, tt := range tests {
		// Map iteration order changes from run to run; the result must not.
		for range 20 {
			if diff := cmp.Diff(tt.want, topN(counts, tt.n)); diff != "" {
				t.Fatalf("topN(%d) (-want +got):\n%s", tt.n, diff)
			}
		}
	}
}

func TestCounterAddAllocatesOnlyNewWords(t *testing.T) {
	c := newCounter()
	b := []byte("word")
	c.add(b)
	if allocs := testing.AllocsPerRun(100, func() { c.add(b) }); allocs != 0 {
		t.Fatalf("counting a known word allocated %v times", allocs)
	}
	if n := *c.counts["word"]; n != 102 {
		t.Fatalf("count = %d, want 102", n)
	}
}

func TestMerge(t *testing.T) {
	a, b := newCounter(), newCounter()
	for _, w := range []string{"x", "y", "x"} {
		a.add([]byte(w))
	}
	b.add([]byte("z"))
	b.add([]byte("x")) // not disjoint: merge adds anyway
	want := map[string]int{"x": 3, "y": 1, "z": 1}
	if diff := cmp.Diff(want, merge([]*counter{a, b})); diff != "" {
		t.Fatalf("merge (-want +got):\n%s", diff)
	}
}
