package main

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// referenceCount is the simple sequential word count that both pipelines must match. It is
// written independently of the pipelines' code (strings.FieldsFunc over the whole text,
// lowercased with strings.ToLower), so a mistake in the chunker or the splitter shows.
func referenceCount(text string) map[string]int {
	counts := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		counts[w]++
	}
	return counts
}

// seedWords are fixed words that the generator mixes in: case folding (Straße/STRASSE,
// Greek with final sigma, the Kelvin sign, Turkish dotted I), scripts without spaces,
// digits, apostrophes and combining marks (which split words).
var seedWords = []string{
	"the", "The", "THE", "of", "and", "a", "to", "in",
	"naïve", "NAÏVE", "Straße", "STRASSE", "ΣΊΣΥΦΟΣ", "σίσυφος", "\u212Aelvin", "kelvin",
	"İstanbul", "istanbul", "日本語", "Ωmega", "café", "cafe\u0301", "2026", "x86", "don't",
	"Привет", "мир", "עברית", "العربية", "e\u0301", "ǅemal",
}

// separators go between words: spaces, punctuation, empty lines, CRLF, tabs, symbols.
var separators = []string{
	" ", " ", " ", " ", ", ", ". ", "\n", "\n\n", "\r\n", "\t", " — ", " (", ") ", "; ", "!\n\n\n",
	" 🙂 ", "…", "\"", " - ", "/", " * ",
}

// Alphabets for the generator's synthetic vocabulary.
const (
	// mixedLetters is half ASCII, half Latin, Greek and Cyrillic letters: splitting it spends
	// most of its time in Unicode tables.
	mixedLetters = "abcdefghijklmnopqrstuvwxyzäöüéèçñßøåæœłžščřğışαβγδεζηθλμπρστφχψωабвгдежзийклмн"
	// latinLetters is mostly ASCII, like English prose with a few loan words, so per-word
	// hand-off costs weigh more.
	latinLetters = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzéñ"
)

// genText returns about size bytes of text: words drawn from a Zipf distribution over a
// synthetic vocabulary (made of alphabet's letters) plus seedWords, in random case, between
// random separators. It ends without a newline.
func genText(rng *rand.Rand, size int, alphabet string) string {
	letters := []rune(alphabet)
	vocab := append([]string(nil), seedWords...)
	for range 3000 {
		n := 1 + rng.IntN(10)
		var b strings.Builder
		for range n {
			b.WriteRune(letters[rng.IntN(len(letters))])
		}
		vocab = append(vocab, b.String())
	}
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
	var b strings.Builder
	for b.Len() < size {
		w := vocab[zipf.Uint64()]
		switch rng.IntN(10) {
		case 0:
			w = strings.ToUpper(w)
		case 1:
			r, n := utf8.DecodeRuneInString(w)
			w = string(unicode.ToTitle(r)) + w[n:]
		}
		b.WriteString(w)
		b.WriteString(separators[rng.IntN(len(separators))])
	}
	return strings.TrimRight(b.String(), "\r\n")
}
