package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// Config describes one run of the order flow.
type Config struct {
	Orders   int    // how many orders to publish
	Accounts int    // how many accounts the orders spread over
	Limit    int64  // the largest absolute position an account may hold
	Journal  string // the journal file, created or truncated
	Capacity int    // the input ring's size, a power of two
	Verify   bool   // the business logic reads each record back from the journal first
	Sync     bool   // the journal fsyncs after every write
	PerOrder bool   // the journal writes each order on its own (a Phase), not each batch (a PhaseBatch)
}

// Report is what a run did. Per-order slices are indexed by order ID and were filled by the
// confirm sink, which sees each order after the business logic has decided it.
type Report struct {
	Published    int    // orders whose Publish returned nil
	JournalBytes int64  // bytes the journal wrote
	Replicated   uint64 // frames the replica received
	Filled       uint64 // business-logic decisions, by outcome
	Rejected     uint64 //
	Unsafe       uint64 //
	Confirmed    int    // orders the sink saw
	Duplicates   int    // orders the sink saw more than once (must be 0)
	Outcomes     []Outcome
	JournalEnds  []int64 // each order's JournalEnd as the sink saw it
	Replica      []Order // the replica's frames, decoded, in send order
	Elapsed      time.Duration
}

// run builds the diamond, publishes cfg.Orders orders into it and drains it:
//
//	orders ──▶ journal   ──┐
//	       └─▶ replicate ──┴─▶ logic ──▶ confirm
//
// journal, replicate and logic are phases over the input ring's entries, in place (journal
// takes whole batches, so that it writes, and syncs, once per batch); confirm
// is an ordinary sink reading the same ring after logic released each entry. On an error
// (a journal write failing, say) the report still describes what happened.
func run(ctx context.Context, cfg Config) (*Report, error) {
	j, err := openJournal(cfg.Journal, cfg.Sync)
	if err != nil {
		return nil, err
	}
	defer j.close()
	bk := newBook(cfg.Accounts, cfg.Limit, j)
	if cfg.Verify {
		rf, err := os.Open(cfg.Journal)
		if err != nil {
			return nil, fmt.Errorf("open journal to verify: %w", err)
		}
		defer rf.Close()
		bk.check = rf
	}
	var rp replica
	rep := &Report{Outcomes: make([]Outcome, cfg.Orders), JournalEnds: make([]int64, cfg.Orders)}

	g := flow.New()
	in := flow.Input[Order](g, flow.Name("orders"), flow.Capacity(cfg.Capacity))
	var journaled *flow.Stream[Order]
	if cfg.PerOrder {
		journaled = in.PhaseErr(1, j.append, flow.Name("journal"))
	} else {
		journaled = in.PhaseBatch(1, j.appendBatch, flow.Name("journal"))
	}
	replicated := in.Phase(1, rp.send, flow.Name("replicate"))
	decided := flow.Merge(journaled, replicated).PhaseErr(1, bk.apply, flow.Name("logic"))
	decided.Sink(1, func(o Order) {
		// One confirm stage: these writes are owned by it and read after Stop.
		if o.ID >= uint64(len(rep.Outcomes)) {
			return
		}
		if rep.Outcomes[o.ID] != Pending {
			rep.Duplicates++
		}
		rep.Outcomes[o.ID] = o.Outcome
		rep.JournalEnds[o.ID] = o.JournalEnd
		rep.Confirmed++
	}, flow.Name("confirm"))

	begin := time.Now()
	if err := g.Start(ctx); err != nil {
		return nil, err
	}
	rep.Published, err = publish(ctx, in, cfg)
	// Stop drains everything published; its error is the graph's first (a failed journal
	// write, for one). Every stage function's call happens before Stop returns, so the
	// handlers' state is read below without further synchronization.
	stopErr := g.Stop()
	rep.Elapsed = time.Since(begin)
	rep.JournalBytes = j.Written()
	rep.Replicated = rp.sent
	rep.Replica = rp.frames()
	rep.Filled, rep.Rejected, rep.Unsafe = bk.filled, bk.rejected, bk.unsafe
	if errors.Is(err, flow.ErrStopped) && stopErr != nil {
		err = nil // the graph stopped because of stopErr; report that one
	}
	return rep, errors.Join(stopErr, err)
}

// publish sends the run's orders in batches, which claims and commits ring slots in runs.
func publish(ctx context.Context, in *flow.Publisher[Order], cfg Config) (int, error) {
	const batch = 256
	buf := make([]Order, 0, batch)
	done := 0
	for done < cfg.Orders {
		buf = buf[:0]
		for i := done; i < cfg.Orders && len(buf) < batch; i++ {
			buf = append(buf, makeOrder(i, cfg.Accounts))
		}
		n, err := in.PublishBatch(ctx, buf)
		done += n
		if err != nil {
			return done, fmt.Errorf("publish order %d: %w", done, err)
		}
	}
	return done, nil
}
