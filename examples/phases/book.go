package main

import (
	"bytes"
	"fmt"
	"io"
)

// book is the business logic: it keeps each account's position and fills an order only if
// the position stays within the limit. It is the handler of the logic phase, which runs
// after both the journal and the replication phase, so its single stage owns every field.
type book struct {
	limit     int64
	positions []int64 // by account
	journal   *journal

	// check, when set, reads each order's record back from the journal file before the order
	// is applied: the strongest evidence that the write completed first. It costs a pread
	// per order, so it is a flag (-verify) and the tests' choice, not the default.
	check io.ReaderAt
	buf   []byte

	filled, rejected, unsafe uint64
}

func newBook(accounts int, limit int64, j *journal) *book {
	return &book{limit: limit, positions: make([]int64, accounts), journal: j}
}

// apply decides o. An order that is not yet journaled or replicated is never applied: that
// is the rule the diamond exists to guarantee, so the phase checks it on every entry rather
// than trusting the topology.
func (b *book) apply(o *Order) error {
	if o.JournalEnd == 0 || o.ReplicaSeq == 0 || o.JournalEnd > b.journal.Written() {
		o.Outcome = Unsafe
		b.unsafe++
		return nil
	}
	if b.check != nil {
		if err := b.readBack(o); err != nil {
			o.Outcome = Unsafe
			b.unsafe++
			return err
		}
	}
	pos := b.positions[o.Account] + o.Qty
	if pos > b.limit || pos < -b.limit {
		o.Outcome = Rejected
		b.rejected++
		return nil
	}
	b.positions[o.Account] = pos
	o.Outcome = Filled
	b.filled++
	return nil
}

// readBack compares the journal's bytes that end at o.JournalEnd with o's record.
func (b *book) readBack(o *Order) error {
	want := appendRecord(nil, o)
	if cap(b.buf) < len(want) {
		b.buf = make([]byte, len(want))
	}
	got := b.buf[:len(want)]
	at := o.JournalEnd - int64(len(want))
	if _, err := b.check.ReadAt(got, at); err != nil {
		return fmt.Errorf("read back order %d at offset %d: %w", o.ID, at, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("order %d: journal holds %q at offset %d, want %q", o.ID, got, at, want)
	}
	return nil
}
