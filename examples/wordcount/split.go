package main

import (
	"bytes"
	"hash/maphash"
	"unicode"
	"unicode/utf8"
)

// A word is a maximal run of Unicode letters and digits (unicode.IsLetter, unicode.IsDigit),
// lowercased with unicode.ToLower rune by rune. Everything else separates words:
// punctuation, spaces, symbols, invalid UTF-8.

// word is what a splitter publishes and a counter reads. text points into the splitter's
// lowercased copy of a chunk, which nobody writes once split; a counter copies it into a
// string only when the word is new to it, so passing words costs no allocation. key is the
// word's hash, computed once by the splitter, for key routing.
type word struct {
	text []byte
	key  uint64
}

// seed is shared by every splitter, so equal words get equal keys in one process.
var seed = maphash.MakeSeed()

func isASCIIWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// splitWords lowercases chunk into a new buffer and calls emit for each word of it, in order.
func splitWords(chunk []byte, emit func(word)) {
	lower := bytes.ToLower(chunk) // a copy: the chunk itself stays untouched
	start := -1                   // the start of the current word, or -1 between words
	for i := 0; i < len(lower); {
		c := lower[i]
		in, size := isASCIIWordByte(c), 1
		if c >= utf8.RuneSelf {
			var r rune
			r, size = utf8.DecodeRune(lower[i:])
			in = isWordRune(r)
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			emitWord(lower[start:i], emit)
			start = -1
		}
		i += size
	}
	if start >= 0 {
		emitWord(lower[start:], emit)
	}
}

func emitWord(b []byte, emit func(word)) {
	emit(word{text: b[:len(b):len(b)], key: maphash.Bytes(seed, b)})
}
