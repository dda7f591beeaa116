package main

import (
	"fmt"
	"os"
	"sync/atomic"
)

// journal appends each order's record to a file. It is the handler of the journal phase, so
// every method but Written runs on that phase's single stage goroutine.
type journal struct {
	f    *os.File
	path string
	buf  []byte // reused record buffer; owned by the phase's goroutine
	off  int64  // bytes written so far; owned by the phase's goroutine

	// written mirrors off for other goroutines. Written by the journal phase after each
	// write returns; read by the business-logic phase to confirm that an order's record
	// is in the file before it applies the order.
	written atomic.Int64
}

// openJournal creates (or truncates) the journal at path.
func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return &journal{f: f, path: path}, nil
}

// append writes o's record with one write(2) and then records where it ends. One write per
// order is deliberate: a Phase handler sees one entry at a time and flow offers no
// end-of-batch hook for phases, so buffering records would leave the last ones of a batch
// in memory with nobody to flush them while the business logic already acts on them.
func (j *journal) append(o *Order) error {
	j.buf = appendRecord(j.buf[:0], o)
	n, err := j.f.Write(j.buf)
	if err != nil {
		// JournalEnd stays 0: the business logic will refuse this order.
		return fmt.Errorf("journal order %d to %s: %w", o.ID, j.path, err)
	}
	j.off += int64(n)
	j.written.Store(j.off)
	o.JournalEnd = j.off
	return nil
}

// Written returns how many bytes of records the journal has written.
func (j *journal) Written() int64 { return j.written.Load() }

// close closes the file; call it once the graph has stopped.
func (j *journal) close() error {
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("close journal: %w", err)
	}
	return nil
}
