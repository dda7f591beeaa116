package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// chunks reads every chunk of text with the given size, through a reader that returns one
// byte at a time when oneByte is set (short reads must not change the result).
func chunks(t testing.TB, text string, size int, oneByte bool) []string {
	var r io.Reader = strings.NewReader(text)
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	c := newChunker(r, size)
	var out []string
	for {
		b, err := c.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 {
			t.Fatal("empty chunk")
		}
		out = append(out, string(b))
	}
}

func TestChunkerCutsBetweenWords(t *testing.T) {
	for _, tx := range texts {
		for _, size := range []int{1, 2, 5, 64, 1 << 16} {
			for _, oneByte := range []bool{false, true} {
				cs := chunks(t, tx.text, size, oneByte)
				if got := strings.Join(cs, ""); got != tx.text {
					t.Fatalf("%s, size %d: chunks join to %q, want %q", tx.name, size, got, tx.text)
				}
				for i, c := range cs[:max(len(cs)-1, 0)] {
					last := c[len(c)-1]
					if last >= 0x80 || isASCIIWordByte(last) {
						t.Fatalf("%s, size %d: chunk %d ends inside a word: %q", tx.name, size, i, c)
					}
					// A chunk is longer than size only when its first word is that long.
					first := len(c)
					if i := strings.IndexFunc(c, func(r rune) bool { return r < 0x80 && !isASCIIWordByte(byte(r)) }); i >= 0 {
						first = i
					}
					if len(c) > max(size, 2*(first+1)) {
						t.Fatalf("%s, size %d: chunk %d has %d bytes: %q", tx.name, size, i, len(c), c)
					}
				}
			}
		}
	}
}

func TestChunkerReadError(t *testing.T) {
	errBad := errors.New("bad sector")
	c := newChunker(&failingReader{text: "abc def", err: errBad}, 4)
	var err error
	for err == nil {
		_, err = c.next()
	}
	if !errors.Is(err, errBad) || !strings.Contains(err.Error(), "read text") {
		t.Fatalf("chunker error = %v, want one wrapping %v", err, errBad)
	}
}

// FuzzSplit checks the chunker and the splitter, run sequentially, against the reference on
// arbitrary bytes and chunk sizes.
func FuzzSplit(f *testing.F) {
	for _, tx := range texts {
		f.Add(tx.text, uint8(7))
	}
	f.Fuzz(func(t *testing.T, text string, size uint8) {
		got := map[string]int{}
		for _, c := range chunks(t, text, int(size)+1, false) {
			splitWords([]byte(c), func(w word) { got[string(w.text)]++ })
		}
		want := referenceCount(text)
		if len(got) != len(want) {
			t.Fatalf("%q: %d distinct words, reference %d: %v vs %v", text, len(got), len(want), got, want)
		}
		for w, n := range want {
			if got[w] != n {
				t.Fatalf("%q: word %q counted %d times, reference %d", text, w, got[w], n)
			}
		}
	})
}
