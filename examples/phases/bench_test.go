package main

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkJournal runs the order flow with the journal as a PhaseBatch (one write, and with
// sync one fsync, per batch) and as a per-order Phase (one of each per order), in one run:
// compare the batch and per-order sub-benchmarks of the same sync setting as a ratio.
func BenchmarkJournal(b *testing.B) {
	for _, sync := range []bool{false, true} {
		orders := 50_000
		if sync {
			orders = 2_000 // one fsync per order takes milliseconds on some disks
		}
		for _, perOrder := range []bool{false, true} {
			name := "batch"
			if perOrder {
				name = "per-order"
			}
			if sync {
				name += "/sync"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				cfg := Config{
					Orders: orders, Accounts: 64, Limit: 500, Capacity: 4096,
					Journal: filepath.Join(b.TempDir(), "orders.journal"),
					Sync:    sync, PerOrder: perOrder,
				}
				for b.Loop() {
					rep, err := run(context.Background(), cfg)
					if err != nil {
						b.Fatal(err)
					}
					if rep.Confirmed != orders || rep.Unsafe != 0 {
						b.Fatalf("confirmed %d, unsafe %d; want %d, 0", rep.Confirmed, rep.Unsafe, orders)
					}
				}
				b.ReportMetric(float64(orders)*float64(b.N)/b.Elapsed().Seconds(), "orders/s")
			})
		}
	}
}
