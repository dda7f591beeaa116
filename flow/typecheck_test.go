package flow_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMismatchedEdgeDoesNotCompile builds testdata/mismatch, whose second level reads int
// from a level that produces string, and testdata/fragmismatch, which applies a fragment
// reading int to a stream of strings, and expects a type error on that line of each;
// testdata/match and testdata/fragmatch, the same programs with the types fixed, must
// build, so the test fails for that one reason only.
func TestMismatchedEdgeDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	// The go command on PATH, asked for the root of the toolchain it runs (GOTOOLCHAIN
	// picks 1.27 there, as it did for this test), so that the builds below use the same one.
	root, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	gobin := filepath.Join(strings.TrimSpace(string(root)), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		t.Skipf("no go command: %v", err)
	}
	build := func(dir string) (string, error) {
		cmd := exec.Command(gobin, "build", "-o", os.DevNull, "./"+dir)
		cmd.Dir = "testdata"
		cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, c := range []struct{ good, bad, line string }{
		{"match", "mismatch", "main.go:15"},
		{"fragmatch", "fragmismatch", "main.go:15"},
	} {
		if out, err := build(c.good); err != nil {
			t.Fatalf("the well-typed %s does not build: %v\n%s", c.good, err, out)
		}
		out, err := build(c.bad)
		if err == nil {
			t.Fatalf("%s, a graph with a mismatched edge, compiled", c.bad)
		}
		if !strings.Contains(out, c.line) || !strings.Contains(out, "string") {
			t.Fatalf("the build of %s failed, but not on the mismatched edge:\n%s", c.bad, out)
		}
	}
}
