package flow_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMismatchedEdgeDoesNotCompile builds testdata/mismatch, whose second level reads int
// from a level that produces string, and expects a type error; testdata/match, the same
// program with the edge fixed, must build, so the test fails for that one reason only.
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
	if out, err := build("match"); err != nil {
		t.Fatalf("the well-typed program does not build: %v\n%s", err, out)
	}
	out, err := build("mismatch")
	if err == nil {
		t.Fatal("a graph with a mismatched edge compiled")
	}
	if !strings.Contains(out, "main.go:15") || !strings.Contains(out, "string") {
		t.Fatalf("the build failed, but not on the mismatched edge:\n%s", out)
	}
}
