package main

import (
	"slices"
	"strings"
	"testing"
)

func TestWordsAreLoweredRunsOfLettersAndDigits(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{"", nil},
		{" -- , ", nil},
		{"One two, THREE.", []string{"one", "two", "three"}},
		{"5 six\tStraße don't", []string{"5", "six", "straße", "don", "t"}},
	} {
		var got []string
		forEachWord(tc.line, func(w string) { got = append(got, w) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("words of %q: %q; want %q", tc.line, got, tc.want)
		}
		if n := countWords(tc.line); n != len(tc.want) {
			t.Errorf("countWords(%q) = %d; want %d", tc.line, n, len(tc.want))
		}
	}
}

// The broker's text is made of the vocabulary only, so that the counts' top is stable.
func TestLinesUseTheVocabulary(t *testing.T) {
	mk := newLineMaker(1)
	for range 1000 {
		l := mk.line()
		forEachWord(l, func(w string) {
			if !slices.Contains(vocabulary, w) {
				t.Fatalf("line %q has %q, not in the vocabulary", l, w)
			}
		})
		if !strings.HasSuffix(l, ".") {
			t.Fatalf("line %q does not end a sentence", l)
		}
	}
}
