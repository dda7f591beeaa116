package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBookApply(t *testing.T) {
	ok := func(qty int64) Order {
		return Order{ID: 7, Account: 1, Qty: qty, Price: 100, JournalEnd: 10, ReplicaSeq: 1}
	}
	tests := []struct {
		name  string
		start int64 // the account's position before
		o     Order
		want  Outcome
		pos   int64 // the account's position after
	}{
		{"filled", 0, ok(40), Filled, 40},
		{"filled up to the limit", 60, ok(40), Filled, 100},
		{"over the limit", 70, ok(40), Rejected, 70},
		{"under minus the limit", -70, ok(-40), Rejected, -70},
		{"not journaled", 0, Order{Account: 1, Qty: 1, ReplicaSeq: 1}, Unsafe, 0},
		{"not replicated", 0, Order{Account: 1, Qty: 1, JournalEnd: 10}, Unsafe, 0},
		{"journal end beyond what was written", 0, Order{Account: 1, Qty: 1, JournalEnd: 11, ReplicaSeq: 1}, Unsafe, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &journal{}
			j.written.Store(10)
			b := newBook(2, 100, j)
			b.positions[1] = tt.start
			o := tt.o
			if err := b.apply(&o); err != nil {
				t.Fatal(err)
			}
			if o.Outcome != tt.want || b.positions[1] != tt.pos {
				t.Fatalf("outcome %v, position %d; want %v, %d", o.Outcome, b.positions[1], tt.want, tt.pos)
			}
		})
	}
}

// TestBookReadBack checks the -verify path against a journal held in memory.
func TestBookReadBack(t *testing.T) {
	o := makeOrder(3, 4)
	rec := appendRecord(nil, &o)
	file := append([]byte("order 2 account 0 qty 1 price 1\n"), rec...)
	tests := []struct {
		name    string
		file    []byte
		end     int64
		wantErr string
	}{
		{"record in place", file, int64(len(file)), ""},
		{"wrong offset", file, int64(len(file)) - 1, "journal holds"},
		{"record missing", file[:len(file)-len(rec)], int64(len(file)), "read back order 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &journal{}
			j.written.Store(tt.end)
			b := newBook(4, 1000, j)
			b.check = bytes.NewReader(tt.file)
			o := o
			o.JournalEnd, o.ReplicaSeq = tt.end, 1
			err := b.apply(&o)
			if tt.wantErr == "" {
				if err != nil || o.Outcome != Filled {
					t.Fatalf("apply = %v, outcome %v; want nil, filled", err, o.Outcome)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || o.Outcome != Unsafe {
				t.Fatalf("apply = %v, outcome %v; want an error containing %q, unsafe", err, o.Outcome, tt.wantErr)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Pending: "pending", Filled: "filled", Rejected: "rejected", Unsafe: "unsafe", 9: "outcome(9)"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", o, got, want)
		}
	}
}
