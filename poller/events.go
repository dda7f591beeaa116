package poller

import "strconv"

// Events is a set of readiness conditions on a file descriptor.
type Events uint8

const (
	// Readable: a read would not block (data, or end of file after Hangup).
	Readable Events = 1 << iota
	// Writable: a write would not block.
	Writable
	// Hangup: the peer closed its end; reported without being asked for.
	Hangup
	// Error: an error is pending on the descriptor; reported without being asked for.
	Error
)

// interestMask is what a caller may ask for; Hangup and Error always come along
// with a non-empty interest, so asking for them changes nothing.
const interestMask = Readable | Writable

var eventNames = [...]string{"Readable", "Writable", "Hangup", "Error"}

// String returns the set as names joined by "|", for example "Readable|Hangup",
// "0" for the empty set, and a hexadecimal rest for unknown bits.
func (e Events) String() string {
	if e == 0 {
		return "0"
	}
	var buf [40]byte
	b := buf[:0]
	for i, name := range eventNames {
		if e&(1<<i) == 0 {
			continue
		}
		if len(b) > 0 {
			b = append(b, '|')
		}
		b = append(b, name...)
	}
	if rest := e &^ (1<<len(eventNames) - 1); rest != 0 {
		if len(b) > 0 {
			b = append(b, '|')
		}
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, uint64(rest), 16)
	}
	return string(b)
}
