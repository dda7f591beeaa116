package main

import (
	"context"
	"errors"
	"syscall"
	"testing"
)

// TestJournalFailureStopsGraph journals to /dev/full, where every write fails with ENOSPC:
// the graph stops with the journal's error, and the business logic, which still sees the
// orders that were already in the ring (PhaseErr passes a failed entry on), refuses every
// one of them instead of acting on an order that is not in the journal.
func TestJournalFailureStopsGraph(t *testing.T) {
	cfg := testConfig(t, 5_000)
	cfg.Journal = "/dev/full"
	cfg.Verify = false // nothing to read back from /dev/full
	rep, err := run(context.Background(), cfg)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("run error = %v, want ENOSPC from the journal", err)
	}
	if rep == nil {
		t.Fatal("no report after a journal failure")
	}
	if rep.Filled != 0 || rep.Rejected != 0 {
		t.Fatalf("the logic acted on unjournaled orders: %d filled, %d rejected", rep.Filled, rep.Rejected)
	}
	if rep.Unsafe == 0 || rep.Unsafe != uint64(rep.Confirmed) {
		t.Fatalf("logic refused %d orders, the sink confirmed %d; want equal and non-zero", rep.Unsafe, rep.Confirmed)
	}
	if rep.JournalBytes != 0 {
		t.Fatalf("journal counted %d bytes written to /dev/full", rep.JournalBytes)
	}
	for id, o := range rep.Outcomes {
		if o != Pending && o != Unsafe {
			t.Fatalf("order %d: outcome %v after a journal failure", id, o)
		}
	}
}
