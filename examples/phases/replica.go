package main

import "encoding/binary"

// replica stands in for sending each order to a standby machine: it encodes the order as a
// fixed 28-byte frame and appends it to an in-memory stream, the bytes a network send would
// carry. It is the handler of the replication phase, whose single stage owns every field.
type replica struct {
	stream []byte
	sent   uint64
}

// frameSize is the length of one replica frame: ID, account, quantity, price.
const frameSize = 8 + 4 + 8 + 8

// send encodes o into the stream and numbers it.
func (r *replica) send(o *Order) {
	r.stream = binary.LittleEndian.AppendUint64(r.stream, o.ID)
	r.stream = binary.LittleEndian.AppendUint32(r.stream, o.Account)
	r.stream = binary.LittleEndian.AppendUint64(r.stream, uint64(o.Qty))
	r.stream = binary.LittleEndian.AppendUint64(r.stream, uint64(o.Price))
	r.sent++
	o.ReplicaSeq = r.sent
}

// frames decodes the stream back into orders (without the phase fields), in send order.
func (r *replica) frames() []Order {
	out := make([]Order, 0, len(r.stream)/frameSize)
	for b := r.stream; len(b) >= frameSize; b = b[frameSize:] {
		out = append(out, Order{
			ID:      binary.LittleEndian.Uint64(b),
			Account: binary.LittleEndian.Uint32(b[8:]),
			Qty:     int64(binary.LittleEndian.Uint64(b[12:])),
			Price:   int64(binary.LittleEndian.Uint64(b[20:])),
		})
	}
	return out
}
