package main

import (
	"hash/maphash"
	"unicode"
	"unicode/utf8"
)

// A word is a maximal run of Unicode letters and digits (unicode.IsLetter, unicode.IsDigit),
// lowercased with unicode.ToLower rune by rune. Everything else separates words:
// punctuation, spaces, symbols, invalid UTF-8.

// word is what a splitter publishes and a counter reads. text points into the splitter's
// buffer of lowercased words, which nobody writes at or before a word once it is emitted; a counter copies it into a
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

// splitWords calls emit for each word of chunk, lowercased, in order. It lowercases while it
// scans, rune by rune, into one new buffer per chunk that holds the words back to back; the
// words point into it. Lowercasing the whole chunk first (bytes.ToLower) and then scanning was
// rejected: it walks the text twice and took a third of the splitter's time on non-ASCII text.
// A rune is classified after lowercasing, so a word is exactly a run of word runes of the
// lowercased text.
func splitWords(chunk []byte, emit func(word)) {
	lower := make([]byte, 0, len(chunk)) // may grow: lowercasing can lengthen a rune
	start := -1                          // where the current word starts in lower, or -1
	for i := 0; i < len(chunk); {
		if c := chunk[i]; c < utf8.RuneSelf {
			i++
			if isASCIIWordByte(c) {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				if start < 0 {
					start = len(lower)
				}
				lower = append(lower, c)
				continue
			}
		} else {
			r, size := utf8.DecodeRune(chunk[i:])
			i += size
			if lr := unicode.ToLower(r); isWordRune(lr) {
				if start < 0 {
					start = len(lower)
				}
				lower = utf8.AppendRune(lower, lr)
				continue
			}
		}
		if start >= 0 {
			// If lower grows later, words already emitted keep pointing into the old array,
			// which stays valid: nobody writes to a word once it is emitted.
			emitWord(lower[start:], emit)
			start = -1
		}
	}
	if start >= 0 {
		emitWord(lower[start:], emit)
	}
}

func emitWord(b []byte, emit func(word)) {
	emit(word{text: b[:len(b):len(b)], key: maphash.Bytes(seed, b)})
}
