package main

import (
	"context"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
)

// BenchmarkWordCount runs the flow pipeline and the channel pipeline over the same generated,
// mostly ASCII text, with the same Config (stage counts and buffer sizes), in one run: compare
// the flow and chan sub-benchmarks as a ratio. Every iteration's counts are checked against
// the reference.
func BenchmarkWordCount(b *testing.B) { benchWordCount(b, latinLetters) }

// BenchmarkWordCountUnicode is BenchmarkWordCount on text whose words are half non-ASCII, where
// splitting (Unicode tables, lowercasing) costs more and the hand-off between stages less.
func BenchmarkWordCountUnicode(b *testing.B) { benchWordCount(b, mixedLetters) }

func benchWordCount(b *testing.B, alphabet string) {
	text := genText(rand.New(rand.NewPCG(5, 6)), 4<<20, alphabet)
	want := referenceCount(text)
	words := 0
	for _, n := range want {
		words += n
	}
	for _, p := range pipelines {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				got, err := p.count(context.Background(), strings.NewReader(text), DefaultConfig)
				if err != nil {
					b.Fatal(err)
				}
				if !maps.Equal(got, want) {
					b.Fatalf("%s: counts differ from the reference (%d distinct words, want %d)", p.name, len(got), len(want))
				}
			}
			b.ReportMetric(float64(words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
		})
	}
}
