package main

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// pipelines are the two implementations under test, by the name the benchmark uses.
var pipelines = []struct {
	name   string
	count  func(context.Context, io.Reader, Config) (map[string]int, error)
	stages func(context.Context, io.Reader, Config) ([]*counter, error)
}{
	{"flow", countFlow, countFlowStages},
	{"chan", countChan, countChanStages},
}

// texts are the edge cases every pipeline must count exactly as the reference does.
var texts = []struct{ name, text string }{
	{"empty", ""},
	{"only separators", " ,.;\n\n\t — 🙂\r\n"},
	{"one word, no newline", "word"},
	{"trailing newline", "one two\nthree\n"},
	{"no trailing newline", "one two\nthree two"},
	{"empty lines", "\n\n\nalpha\n\n\n\nbeta\n\n\nalpha\n\n"},
	{"crlf", "Alpha beta\r\nBETA\r\n\r\ngamma"},
	{"punctuation", "Hello, world! (Hello) world... \"hello\"—world; don't stop: x86-64, 3.14"},
	{"case folding", "Straße STRASSE straße ΣΊΣΥΦΟΣ σίσυφος \u212Aelvin KELVIN İstanbul"},
	{"scripts", "日本語 日本語、日本語。 Привет мир, мир! עברית العربية"},
	{"combining marks", "café cafe\u0301 e\u0301e\u0301 ǅemal ǆemal"},
	{"digits", "2026 ٢٠٢٦ 2026a a2026 ٣"},
	{"invalid utf-8", "ab\xffcd \xe2\x82 ef\xc3 g\xc3\xa9h \xf0\x9f\x99"},
	{"long word", strings.Repeat("abcdefghéij", 200) + " short " + strings.Repeat("Z", 5000)},
}

// smallConfigs stress the parts that a default run hardly touches: chunks of a few bytes
// (so words straddle many reads), rings of 2 slots (so every stage blocks on a full ring),
// and more stages than the machine has cores.
var smallConfigs = []struct {
	name string
	cfg  Config
}{
	{"default", DefaultConfig},
	{"chunk=1", Config{Splitters: 2, Counters: 3, ChunkSize: 1, ChunkRing: 2, WordRing: 2}},
	{"chunk=7", Config{Splitters: 3, Counters: 2, ChunkSize: 7, ChunkRing: 4, WordRing: 8}},
	{"chunk=64/one stage each", Config{Splitters: 1, Counters: 1, ChunkSize: 64, ChunkRing: 2, WordRing: 16}},
}

func TestPipelinesMatchReference(t *testing.T) {
	for _, p := range pipelines {
		for _, c := range smallConfigs {
			for _, tx := range texts {
				t.Run(p.name+"/"+c.name+"/"+tx.name, func(t *testing.T) {
					got, err := p.count(context.Background(), strings.NewReader(tx.text), c.cfg)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(referenceCount(tx.text), got); diff != "" {
						t.Fatalf("counts differ from the reference (-want +got):\n%s", diff)
					}
				})
			}
		}
	}
}

// TestGeneratedFile counts a generated text file, read from disk as the command does.
func TestGeneratedFile(t *testing.T) {
	for _, alphabet := range []string{mixedLetters, latinLetters} {
		countFile(t, genText(rand.New(rand.NewPCG(1, 2)), scale(1<<20, 128<<10), alphabet))
	}
}

func countFile(t *testing.T, text string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	want := referenceCount(text)
	if len(want) < 1000 {
		t.Fatalf("generated text has only %d distinct words", len(want))
	}
	for _, p := range pipelines {
		for _, c := range []Config{DefaultConfig, {Splitters: 3, Counters: 4, ChunkSize: 4096, ChunkRing: 2, WordRing: 64}} {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.count(context.Background(), f, c)
			f.Close()
			if err != nil {
				t.Fatalf("%s %+v: %v", p.name, c, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s %+v: counts differ from the reference (-want +got):\n%s", p.name, c, diff)
			}
		}
	}
}

// TestCountersOwnTheirWords checks key routing: each word is counted by exactly one counter,
// and with enough distinct words every counter gets some.
func TestCountersOwnTheirWords(t *testing.T) {
	text := genText(rand.New(rand.NewPCG(3, 4)), 200<<10, mixedLetters)
	cfg := DefaultConfig
	cfg.Counters, cfg.ChunkSize = 4, 1024
	for _, p := range pipelines {
		t.Run(p.name, func(t *testing.T) {
			cs, err := p.stages(context.Background(), strings.NewReader(text), cfg)
			if err != nil {
				t.Fatal(err)
			}
			owner := map[string]int{}
			for i, c := range cs {
				if len(c.counts) == 0 {
					t.Errorf("counter %d counted no word", i)
				}
				for w := range c.counts {
					if j, ok := owner[w]; ok {
						t.Fatalf("word %q counted by counters %d and %d", w, j, i)
					}
					owner[w] = i
				}
			}
		})
	}
}

// TestPipelinesRandomText compares both pipelines with the reference on arbitrary text,
// including invalid UTF-8, with random chunk sizes and stage counts.
func TestPipelinesRandomText(t *testing.T) {
	alphabet := []string{"a", "B", "é", "É", "ß", "\u212A", "k", "日", " ", "\n", ",", "\xff", "\xe2\x82", "́", "9", "🙂", "'"}
	rapid.Check(t, func(t *rapid.T) {
		parts := rapid.SliceOf(rapid.SampledFrom(alphabet)).Draw(t, "parts")
		text := strings.Join(parts, "")
		cfg := Config{
			Splitters: rapid.IntRange(1, 3).Draw(t, "splitters"),
			Counters:  rapid.IntRange(1, 3).Draw(t, "counters"),
			ChunkSize: rapid.IntRange(1, 16).Draw(t, "chunk"),
			ChunkRing: 2,
			WordRing:  4,
		}
		want := referenceCount(text)
		for _, p := range pipelines {
			got, err := p.count(context.Background(), strings.NewReader(text), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s on %q: (-want +got):\n%s", p.name, text, diff)
			}
		}
	})
}

// failingReader returns some text and then an error.
type failingReader struct {
	text string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.text == "" {
		return 0, r.err
	}
	n := copy(p, r.text)
	r.text = r.text[n:]
	return n, nil
}

func TestReadErrorStopsPipeline(t *testing.T) {
	errDisk := errors.New("disk on fire")
	for _, p := range pipelines {
		t.Run(p.name, func(t *testing.T) {
			cfg := DefaultConfig
			cfg.ChunkSize = 16
			r := &failingReader{text: strings.Repeat("some words here ", 100), err: errDisk}
			got, err := p.count(context.Background(), r, cfg)
			if !errors.Is(err, errDisk) || got != nil {
				t.Fatalf("count = %d words, %v; want nil, an error wrapping %v", len(got), err, errDisk)
			}
		})
	}
}

// endless is a reader that never ends.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "word "[i%5]
	}
	return len(p), nil
}

func TestCancelStopsPipeline(t *testing.T) {
	for _, p := range pipelines {
		t.Run(p.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := p.count(ctx, endless{}, DefaultConfig)
				done <- err
			}()
			time.Sleep(20 * time.Millisecond) // let it run for a moment
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("count after cancel = %v, want context.Canceled", err)
				}
			case <-time.After(30 * time.Second): // a hang, not a performance bound
				t.Fatal("count did not return after its context was cancelled")
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Splitters: 0, Counters: 1, ChunkSize: 1, ChunkRing: 2, WordRing: 2},
		{Splitters: 1, Counters: 0, ChunkSize: 1, ChunkRing: 2, WordRing: 2},
		{Splitters: 1, Counters: 1, ChunkSize: 0, ChunkRing: 2, WordRing: 2},
		{Splitters: 1, Counters: 1, ChunkSize: 1, ChunkRing: 3, WordRing: 2},
		{Splitters: 1, Counters: 1, ChunkSize: 1, ChunkRing: 2, WordRing: 1},
	}
	for _, c := range bad {
		for _, p := range pipelines {
			if _, err := p.count(context.Background(), strings.NewReader("x"), c); err == nil {
				t.Errorf("%s accepted %+v", p.name, c)
			}
		}
	}
	if err := DefaultConfig.validate(); err != nil {
		t.Fatal(err)
	}
}
