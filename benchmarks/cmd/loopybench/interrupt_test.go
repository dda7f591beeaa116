package main

import (
	"io"
	"strings"
	"sync"
	"testing"
)

// stopAt closes stop when the progress it is written first contains mark.
type stopAt struct {
	mark string
	stop chan struct{}
	once sync.Once
}

func (s *stopAt) Write(p []byte) (int, error) {
	if strings.Contains(string(p), s.mark) {
		s.once.Do(func() { close(s.stop) })
	}
	return len(p), nil
}

// A run stopped by a signal finishes the row it is measuring, measures no other, and says
// so in the report.
func TestStopEndsTheRunAfterTheRow(t *testing.T) {
	o, err := parseOptions([]string{"-duration", "5ms", "-runs", "1", "-topology", "^unicast$|^pipeline$"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	progress := &stopAt{mark: "[1/", stop: make(chan struct{})}
	r := &runner{o: o, progress: progress, stop: progress.stop}
	rep, err := r.run()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0].Topology != "unicast" || rep.Rows[0].Chan.EntriesPerSec <= 0 {
		t.Fatalf("rows %+v, want unicast's, both sides", rep.Rows)
	}
	if want := "stopped by a signal after 1 of 2 rows"; rep.Interrupted != want {
		t.Fatalf("Interrupted = %q, want %q", rep.Interrupted, want)
	}
	var md strings.Builder
	if err := writeMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "**interrupted**: stopped by a signal after 1 of 2 rows") {
		t.Errorf("the table does not say it was interrupted:\n%s", md.String())
	}
}
