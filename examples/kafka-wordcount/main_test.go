package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/loopyring/loopyring/examples/internal/testrun"
)

func TestMain(m *testing.M) { testrun.Main(m) }

var scale = testrun.Scale

// waitLimit bounds every wait for the cluster or a worker. It detects a hang; it is not a
// performance bound, so it is generous for a loaded 2-core machine under -race.
const waitLimit = 60 * time.Second

// waitFor polls cond every 10ms until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// referenceCount is the word count every run must match, written independently of the
// workers' splitting: strings.FieldsFunc over the whole text, lowercased.
func referenceCount(lines []string) map[string]int64 {
	counts := map[string]int64{}
	text := strings.ToLower(strings.Join(lines, "\n"))
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		counts[w]++
	}
	return counts
}

// syncBuffer is a worker's output, read by the test while the worker writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testWorker is a worker run in the test's process, with what it printed and committed.
type testWorker struct {
	name   string
	out    syncBuffer
	stop   context.CancelFunc
	done   chan error
	commit *commits // every commit's positions, as OnCommit reported them
}

// startWorker runs a worker with quick commits and heartbeats, so that rebalances happen
// within a test's time, and stops it when the test ends if the test did not.
func startWorker(t *testing.T, brokers []string, name string) *testWorker {
	t.Helper()
	cfg := defaultWorker
	cfg.Brokers, cfg.Name = brokers, name
	cfg.Every = 100 * time.Millisecond
	cfg.CommitInterval = 50 * time.Millisecond
	cfg.Heartbeat = 100 * time.Millisecond
	cfg.Session = 6 * time.Second // kfake's minimum
	w := &testWorker{name: name, done: make(chan error, 1), commit: newCommits()}
	cfg.onCommit = w.commit.record
	ctx, cancel := context.WithCancel(context.Background())
	w.stop = cancel
	go func() { w.done <- runWorker(ctx, &w.out, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.done:
		case <-time.After(waitLimit):
			t.Errorf("worker %s did not stop", name)
		}
	})
	return w
}

// stopWorker stops w as Ctrl-C does and fails the test on its error.
func stopWorker(t *testing.T, w *testWorker) {
	t.Helper()
	w.stop()
	select {
	case err := <-w.done:
		w.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("worker %s: %v\n%s", w.name, err, w.out.String())
		}
	case <-time.After(waitLimit):
		t.Fatalf("worker %s did not stop", w.name)
	}
}

// committed returns the sum of the positions w committed, over every partition.
func (w *testWorker) committed() int64 {
	w.commit.mu.Lock()
	defer w.commit.mu.Unlock()
	n := int64(0)
	for _, at := range w.commit.at {
		n += at
	}
	return n
}
