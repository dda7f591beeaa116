package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunPrintsTopWords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.txt")
	text := "b a c b\n\nc b é É, d" // no trailing newline
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, impl := range []string{"flow", "chan"} {
		var out bytes.Buffer
		if err := run(context.Background(), &out, nil, path, impl, 3, DefaultConfig); err != nil {
			t.Fatal(err)
		}
		want := "9 words, 5 distinct, in " + path + " (counted by " + impl + ")\n" +
			"       3 b\n" +
			"       2 c\n" +
			"       2 é\n"
		if out.String() != want {
			t.Fatalf("%s printed:\n%s\nwant:\n%s", impl, out.String(), want)
		}
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, strings.NewReader(""), "", "goroutines", 3, DefaultConfig); err == nil ||
		!strings.Contains(err.Error(), "unknown pipeline") {
		t.Fatalf("unknown pipeline: %v", err)
	}
	if err := run(context.Background(), &out, nil, filepath.Join(t.TempDir(), "missing"), "flow", 3, DefaultConfig); !os.IsNotExist(err) {
		t.Fatalf("missing file: %v", err)
	}
	if out.Len() != 0 {
		t.Fatalf("printed %q on error", out.String())
	}
}
