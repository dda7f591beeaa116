package main

import "strconv"

// Order is one entry of the ring. The input publisher fills the first four fields; each phase
// then writes only its own fields, which is what lets the journal and the replication phase
// run over the same entry at the same time (flow.Stream.Phase allows parallel phases to
// write only what no parallel phase reads).
type Order struct {
	ID      uint64
	Account uint32
	Qty     int64 // signed: a buy is positive, a sell negative
	Price   int64 // in cents

	// JournalEnd is written by the journal phase only, after its write to the file returned:
	// the file offset just past this order's record. Zero means "not journaled".
	JournalEnd int64
	// ReplicaSeq is written by the replication phase only: the order's 1-based position in
	// the replica's stream. Zero means "not replicated".
	ReplicaSeq uint64
	// Outcome is written by the business-logic phase only, and read by the confirm sink.
	Outcome Outcome
}

// Outcome is what the business logic decided for an order.
type Outcome uint8

const (
	// Pending: the business logic has not seen the order.
	Pending Outcome = iota
	// Filled: the order was applied to its account's position.
	Filled
	// Rejected: applying the order would have taken the account past its position limit.
	Rejected
	// Unsafe: the order reached the business logic before it was journaled or replicated,
	// so it was refused. In a correct graph this happens only when the journal failed.
	Unsafe
)

func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case Filled:
		return "filled"
	case Rejected:
		return "rejected"
	case Unsafe:
		return "unsafe"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// appendRecord appends o's journal record, one text line, to b. The format is plain text so
// that the journal can be read with a pager and parsed back by the tests:
//
//	order 17 account 3 qty -40 price 10125
func appendRecord(b []byte, o *Order) []byte {
	b = append(b, "order "...)
	b = strconv.AppendUint(b, o.ID, 10)
	b = append(b, " account "...)
	b = strconv.AppendUint(b, uint64(o.Account), 10)
	b = append(b, " qty "...)
	b = strconv.AppendInt(b, o.Qty, 10)
	b = append(b, " price "...)
	b = strconv.AppendInt(b, o.Price, 10)
	return append(b, '\n')
}

// makeOrder returns the i-th order of a run: deterministic, so a run can be checked against
// what it must have produced. Accounts cycle, and quantities swing between buys and sells
// so that some orders cross the position limit.
func makeOrder(i int, accounts int) Order {
	u := uint64(i)
	h := u*0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019 // a cheap mix, so fields do not move in lockstep
	h ^= h >> 29
	qty := int64(h%201) - 100 // -100..100
	if qty == 0 {
		qty = 1
	}
	return Order{
		ID:      u,
		Account: uint32(h>>8) % uint32(accounts),
		Qty:     qty,
		Price:   9000 + int64(h>>20)%2000,
	}
}
