// Command phases runs an LMAX-style order flow on one ring: every order is journaled to a
// file and replicated in parallel, and the business logic sees an order only after both.
//
//	go run ./examples/phases -orders 200000 -journal /tmp/orders.journal
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
)

func main() {
	cfg := Config{Accounts: 64, Limit: 500}
	flag.IntVar(&cfg.Orders, "orders", 100_000, "number of orders to publish")
	flag.StringVar(&cfg.Journal, "journal", filepath.Join(os.TempDir(), "loopyring-orders.journal"),
		"journal file (created or truncated)")
	flag.IntVar(&cfg.Capacity, "capacity", 4096, "input ring size, a power of two")
	flag.BoolVar(&cfg.Verify, "verify", false, "business logic reads each record back from the journal before applying it")
	flag.BoolVar(&cfg.Sync, "sync", false, "fsync the journal after every write")
	flag.BoolVar(&cfg.PerOrder, "per-order", false, "journal each order with its own write (a Phase) instead of each batch with one (a PhaseBatch)")
	flag.Parse()
	if cfg.Orders < 0 {
		fmt.Fprintln(os.Stderr, "phases: -orders must not be negative")
		os.Exit(2)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	rep, err := run(ctx, cfg)
	if rep != nil {
		summarize(os.Stdout, cfg, rep)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "phases:", err)
		os.Exit(1)
	}
}

// summarize prints a few lines about a run.
func summarize(w io.Writer, cfg Config, r *Report) {
	fmt.Fprintf(w, "orders     %d published, %d confirmed\n", r.Published, r.Confirmed)
	fmt.Fprintf(w, "journal    %d bytes to %s\n", r.JournalBytes, cfg.Journal)
	fmt.Fprintf(w, "replica    %d frames\n", r.Replicated)
	fmt.Fprintf(w, "logic      %d filled, %d rejected (position limit %d), %d refused as not yet journaled\n",
		r.Filled, r.Rejected, cfg.Limit, r.Unsafe)
	rate := 0.0
	if s := r.Elapsed.Seconds(); s > 0 {
		rate = float64(r.Published) / s
	}
	fmt.Fprintf(w, "elapsed    %v (%.0f orders/s)\n", r.Elapsed.Round(1e5), rate)
}
