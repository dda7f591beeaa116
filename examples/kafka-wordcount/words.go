package main

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"unicode"
)

// forEachWord calls fn with each word of line, lowercased. A word is a maximal run of
// letters and digits, as in examples/wordcount; everything else separates words.
func forEachWord(line string, fn func(string)) {
	for w := range strings.FieldsFuncSeq(line, notWordRune) {
		fn(strings.ToLower(w))
	}
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// countWords returns how many words line holds.
func countWords(line string) int {
	n := 0
	for range strings.FieldsFuncSeq(line, notWordRune) {
		n++
	}
	return n
}

var wordSeed = maphash.MakeSeed()

// wordKey routes equal words to the same counting stage.
func wordKey(w string) uint64 { return maphash.String(wordSeed, w) }

// vocabulary is what the broker's lines are made of, most frequent first: a Zipf draw makes
// the top of the counts stable enough to watch.
var vocabulary = strings.Fields(`the of and to a in is it you that he was for on are with as
	his they be at one have this from or had by word but what some we can out other were all
	there when up use your how said an each she which do their time if will way about many
	then them write would like so these her long make thing see him two has look more day
	could go come did number sound no most people my over know water than call first who may
	down side been now find ring graph stage level partition broker group worker`)

// lineMaker makes the lines of text the broker produces: sentences of 3 to 12 words drawn
// from vocabulary, capitalized and punctuated.
type lineMaker struct {
	rng  *rand.Rand
	zipf *rand.Zipf
}

func newLineMaker(seed uint64) *lineMaker {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &lineMaker{rng: rng, zipf: rand.NewZipf(rng, 1.2, 1, uint64(len(vocabulary)-1))}
}

func (m *lineMaker) line() string {
	var b strings.Builder
	n := 3 + m.rng.IntN(10)
	for i := range n {
		w := vocabulary[m.zipf.Uint64()]
		switch {
		case i == 0:
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		case m.rng.IntN(8) == 0:
			b.WriteString(", " + w)
		default:
			b.WriteString(" " + w)
		}
	}
	b.WriteString(".")
	return b.String()
}
