package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// journalRecord is one line of the journal file as read back, with where it ends.
type journalRecord struct {
	line string
	end  int64
}

// readJournal parses the journal file into records, in file order.
func readJournal(t *testing.T, path string) []journalRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("journal ends in a partial record: %q", data[max(0, len(data)-40):])
	}
	var recs []journalRecord
	var off int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		off += int64(len(sc.Bytes())) + 1
		recs = append(recs, journalRecord{line: sc.Text(), end: off})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

// sequentialOutcomes is the reference business logic: the orders applied one by one.
func sequentialOutcomes(cfg Config) []Outcome {
	pos := make([]int64, cfg.Accounts)
	out := make([]Outcome, cfg.Orders)
	for i := range cfg.Orders {
		o := makeOrder(i, cfg.Accounts)
		p := pos[o.Account] + o.Qty
		if p > cfg.Limit || p < -cfg.Limit {
			out[i] = Rejected
			continue
		}
		pos[o.Account] = p
		out[i] = Filled
	}
	return out
}

func testConfig(t *testing.T, orders int) Config {
	return Config{
		Orders:   orders,
		Accounts: 16,
		Limit:    300,
		Journal:  filepath.Join(t.TempDir(), "orders.journal"),
		Capacity: 256, // small, so the publisher wraps the ring many times
		Verify:   true,
	}
}

// TestEveryOrderJournaledBeforeLogic is the example's claim: the journal file holds every
// order exactly once, and the business logic saw each order only after its record was in
// the file (it read the record back at the offset the journal phase had set, and refused
// nothing as unjournaled). It holds for the batched journal, the per-order one, and with
// fsync.
func TestEveryOrderJournaledBeforeLogic(t *testing.T) {
	for _, v := range []struct {
		name           string
		perOrder, sync bool
		orders         int
	}{
		{"batch", false, false, scale(40_000, 4_000)},
		{"per-order", true, false, scale(40_000, 4_000)},
		{"batch-sync", false, true, scale(4_000, 500)},
	} {
		t.Run(v.name, func(t *testing.T) {
			cfg := testConfig(t, v.orders)
			cfg.PerOrder, cfg.Sync = v.perOrder, v.sync
			checkJournaled(t, cfg)
		})
	}
}

func checkJournaled(t *testing.T, cfg Config) {
	t.Helper()
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := cfg.Orders
	if rep.Published != n || rep.Confirmed != n || rep.Duplicates != 0 {
		t.Fatalf("published %d, confirmed %d, duplicates %d; want %d, %d, 0",
			rep.Published, rep.Confirmed, rep.Duplicates, n, n)
	}
	if rep.Unsafe != 0 {
		t.Fatalf("the business logic saw %d orders before they were journaled and replicated", rep.Unsafe)
	}

	recs := readJournal(t, cfg.Journal)
	if len(recs) != n {
		t.Fatalf("journal holds %d records, want %d", len(recs), n)
	}
	if last := recs[len(recs)-1].end; last != rep.JournalBytes {
		t.Fatalf("journal file is %d bytes, the journal counted %d", last, rep.JournalBytes)
	}
	// One publisher and one journal stage: the file is in order ID order, so record i must be
	// order i, and order i's JournalEnd (as the logic and then the sink saw it) must be where
	// record i ends in the file.
	for i, rec := range recs {
		o := makeOrder(i, cfg.Accounts)
		want := strings.TrimSuffix(string(appendRecord(nil, &o)), "\n")
		if rec.line != want {
			t.Fatalf("journal record %d is %q, want %q", i, rec.line, want)
		}
		if got := rep.JournalEnds[i]; got != rec.end {
			t.Fatalf("order %d: JournalEnd %d, but its record ends at %d", i, got, rec.end)
		}
	}
}

// TestReplicaAndLogicSeeEveryOrder checks the other two handlers: the replica received
// every order once, in publication order, and the business logic decided each order as
// the sequential reference does.
func TestReplicaAndLogicSeeEveryOrder(t *testing.T) {
	cfg := testConfig(t, scale(40_000, 4_000))
	cfg.Verify = false
	rep, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Replica) != cfg.Orders || rep.Replicated != uint64(cfg.Orders) {
		t.Fatalf("replica got %d frames (counted %d), want %d", len(rep.Replica), rep.Replicated, cfg.Orders)
	}
	for i, got := range rep.Replica {
		if want := makeOrder(i, cfg.Accounts); got != want {
			t.Fatalf("replica frame %d is %+v, want %+v", i, got, want)
		}
	}
	want := sequentialOutcomes(cfg)
	var filled, rejected uint64
	for i, got := range rep.Outcomes {
		if got != want[i] {
			t.Fatalf("order %d: logic decided %v, the sequential reference %v", i, got, want[i])
		}
		if got == Filled {
			filled++
		} else {
			rejected++
		}
	}
	if rejected == 0 || filled == 0 {
		t.Fatalf("the order mix exercised only one outcome: %d filled, %d rejected", filled, rejected)
	}
	if rep.Filled != filled || rep.Rejected != rejected {
		t.Fatalf("logic counted %d filled, %d rejected; the sink saw %d and %d",
			rep.Filled, rep.Rejected, filled, rejected)
	}
}

func TestOpenJournalFails(t *testing.T) {
	cfg := testConfig(t, 10)
	cfg.Journal = filepath.Join(t.TempDir(), "missing", "orders.journal")
	rep, err := run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "open journal") || rep != nil {
		t.Fatalf("run = %v, %v; want no report and an open journal error", rep, err)
	}
}

// TestCancelStopsRun cancels a long run midway: the run returns the context's error, and
// the drain still holds every promise for what was published: each published order was
// journaled, confirmed once, and never applied before its journal write.
func TestCancelStopsRun(t *testing.T) {
	cfg := testConfig(t, 2_000_000)
	cfg.Verify = false
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		rep *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := run(ctx, cfg)
		done <- result{rep, err}
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	var res result
	select {
	case res = <-done:
	case <-time.After(30 * time.Second): // a hang, not a performance bound
		t.Fatal("a cancelled run did not return")
	}
	if !errors.Is(res.err, context.Canceled) {
		t.Fatalf("cancelled run returned %v, want context.Canceled", res.err)
	}
	rep := res.rep
	if rep.Published == cfg.Orders {
		t.Fatal("the run published every order before the cancellation; nothing was tested")
	}
	if rep.Confirmed != rep.Published || rep.Duplicates != 0 || rep.Unsafe != 0 {
		t.Fatalf("published %d, confirmed %d, duplicates %d, unsafe %d",
			rep.Published, rep.Confirmed, rep.Duplicates, rep.Unsafe)
	}
	if recs := readJournal(t, cfg.Journal); len(recs) != rep.Published {
		t.Fatalf("journal holds %d records, %d orders were published", len(recs), rep.Published)
	}
	for id := range rep.Published {
		if rep.Outcomes[id] != Filled && rep.Outcomes[id] != Rejected {
			t.Fatalf("order %d: outcome %v", id, rep.Outcomes[id])
		}
	}
}

func TestSummarize(t *testing.T) {
	var b bytes.Buffer
	summarize(&b, Config{Journal: "j", Limit: 5}, &Report{
		Published: 3, Confirmed: 3, JournalBytes: 99, Replicated: 3, Filled: 2, Rejected: 1,
		Elapsed: time.Second,
	})
	want := `orders     3 published, 3 confirmed
journal    99 bytes to j
replica    3 frames
logic      2 filled, 1 rejected (position limit 5), 0 refused as not yet journaled
elapsed    1s (3 orders/s)
`
	if b.String() != want {
		t.Fatalf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}
