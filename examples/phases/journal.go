package main

import (
	"fmt"
	"os"
	"sync/atomic"

	"github.com/loopyring/loopyring/flow"
)

// journal appends each order's record to a file. It is the handler of the journal phase, so
// every method but Written runs on that phase's single stage goroutine.
type journal struct {
	f    *os.File
	path string
	sync bool    // fsync after every write: a record counts as written once it is durable
	buf  []byte  // reused record buffer; owned by the phase's goroutine
	ends []int64 // reused: where each record of a batch ends in buf
	off  int64   // bytes written so far; owned by the phase's goroutine

	// written mirrors off for other goroutines. Written by the journal phase after each
	// write returns; read by the business-logic phase to confirm that an order's record
	// is in the file before it applies the order.
	written atomic.Int64
}

// openJournal creates (or truncates) the journal at path; with sync, every write is followed
// by an fsync.
func openJournal(path string, sync bool) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return &journal{f: f, path: path, sync: sync}, nil
}

// appendBatch journals a whole batch of orders with one write(2) (and one fsync(2) when the
// journal syncs), then records where each order's record ends. It is the handler of a
// PhaseBatch: the batch is every order the phase received from the ring at once, so the
// cost of the system calls is shared by all of them, and nothing is left buffered when the
// handler returns. If the write fails, no order of the batch gets a JournalEnd, and the
// business logic refuses them all.
func (j *journal) appendBatch(b *flow.Batch[Order]) error {
	j.buf, j.ends = j.buf[:0], j.ends[:0]
	for _, o := range b.All() {
		j.buf = appendRecord(j.buf, o)
		j.ends = append(j.ends, int64(len(j.buf)))
	}
	if err := j.write(); err != nil {
		return fmt.Errorf("journal orders %d to %d to %s: %w", b.At(0).ID, b.At(b.Len()-1).ID, j.path, err)
	}
	base := j.off - int64(len(j.buf))
	for i, o := range b.All() {
		o.JournalEnd = base + j.ends[i]
	}
	return nil
}

// append journals one order with one write(2) (and fsync): the handler of a per-entry Phase,
// kept to measure what batching saves.
func (j *journal) append(o *Order) error {
	j.buf = appendRecord(j.buf[:0], o)
	if err := j.write(); err != nil {
		// JournalEnd stays 0: the business logic will refuse this order.
		return fmt.Errorf("journal order %d to %s: %w", o.ID, j.path, err)
	}
	o.JournalEnd = j.off
	return nil
}

// write writes j.buf, syncs if the journal syncs, and moves the end of what is written.
func (j *journal) write() error {
	n, err := j.f.Write(j.buf)
	j.off += int64(n) // a partial write still moves the file's end
	if err == nil && j.sync {
		err = j.f.Sync()
	}
	if err != nil {
		return err
	}
	j.written.Store(j.off)
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
