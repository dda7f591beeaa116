package ring_test

import (
	"testing"

	"github.com/loopyring/loopyring/ring"
)

// availabilityCases seed the fuzzer and run as a table test. Each byte is an
// operation: low bit 0 claims (byte>>1)%capacity+1 slots, low bit 1 commits the
// outstanding claim with index (byte>>1)%outstanding. The first byte picks
// the capacity.
var availabilityCases = []opsCase{
	{"in order", []byte{3, 0, 0, 0, 1, 1, 1}},
	{"reverse", []byte{3, 2, 4, 6, 5, 3, 1}},
	{"middle first", []byte{2, 0, 0, 0, 3, 1, 1}},
	{"gap then fill", []byte{4, 8, 2, 3, 0, 1, 1}},
	{"wrap", []byte{1, 2, 2, 1, 1, 2, 2, 3, 1, 2, 2, 3, 3}},
	{"full batch", []byte{2, 14, 1, 14, 1}},
	{"fenced gap then fill", []byte{0x14, 8, 2, 3, 0, 1, 1}},
}

// checkAvailability drives a multi-publisher ring from one goroutine with
// out-of-order commits and checks that the reader sees exactly the contiguous
// committed prefix: never a committed slot past a gap, never less than the
// whole prefix (up to its batch limit).
func checkAvailability(t *testing.T, ops []byte) {
	if len(ops) == 0 {
		return
	}
	capacity := 2 << (ops[0] % 4)
	const start = 1<<62 - 3
	opts := []ring.Option{ring.MultiPublisher(), ring.WithStart(start)}
	if ops[0]&0x10 != 0 {
		opts = append(opts, ring.Fenced()) // the marks beside the entries
	}
	b, err := ring.New[int64](capacity, opts...)
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.NewReader()
	if err != nil {
		t.Fatal(err)
	}
	var open [][2]int64           // claimed, uncommitted
	committed := map[int64]bool{} // committed, not yet read
	next, pos := int64(start), int64(start)
	for _, op := range ops[1:] {
		if op&1 == 0 {
			n := int64(op>>1)%int64(capacity) + 1
			lo, ok := b.TryClaim(int(n))
			if want := next+n-pos <= int64(capacity); ok != want {
				t.Fatalf("TryClaim(%d) ok=%v with %d claimed and %d released", n, ok, next, pos)
			}
			if !ok {
				continue
			}
			if lo != next {
				t.Fatalf("TryClaim(%d) = %d, want %d", n, lo, next)
			}
			for s := lo; s < lo+n; s++ {
				*b.At(s) = s ^ 0x5a5a
			}
			open = append(open, [2]int64{lo, n})
			next += n
		} else if len(open) > 0 {
			i := int(op>>1) % len(open)
			sp := open[i]
			open = append(open[:i], open[i+1:]...)
			b.Commit(sp[0], int(sp[1]))
			for s := sp[0]; s < sp[0]+sp[1]; s++ {
				committed[s] = true
			}
		}
		prefix := pos
		for committed[prefix] {
			prefix++
		}
		lo, hi, ok := r.TryRead()
		if ok != (prefix > pos) || (ok && (lo != pos || hi != min(prefix, pos+int64(capacity)))) {
			t.Fatalf("TryRead() = [%d, %d) %v; committed prefix is [%d, %d)", lo, hi, ok, pos, prefix)
		}
		if !ok {
			continue
		}
		for s := lo; s < hi; s++ {
			if v := *b.At(s); v != s^0x5a5a {
				t.Fatalf("slot %d holds %d, want %d", s, v, s^0x5a5a)
			}
			delete(committed, s)
		}
		r.Release(hi)
		pos = hi
	}
	for _, sp := range open {
		b.Commit(sp[0], int(sp[1]))
	}
}

func TestAvailability(t *testing.T) { runOps(t, availabilityCases, checkAvailability) }

func FuzzAvailability(f *testing.F) { fuzzOps(f, availabilityCases, checkAvailability) }
