package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The verifier is checked on its own against the faults a broken topology could produce,
// one at a time, so that a pass of the topology tests means the entries really arrived.
func TestVerifierFaults(t *testing.T) {
	const n = 10
	good := func(seq int64) payload {
		p := newPayload(seq, seq%2, 0)
		p.hop()
		return p
	}
	for _, tc := range []struct {
		name  string
		feed  func(v *verifier)
		fails bool
	}{
		{"all in order", func(v *verifier) {
			for i := range int64(n) {
				p := good(i)
				v.see(&p)
			}
		}, false},
		{"one lost", func(v *verifier) {
			for i := range int64(n - 1) {
				p := good(i)
				v.see(&p)
			}
		}, true},
		{"one twice in place of another", func(v *verifier) {
			for i := range int64(n) {
				p := good(min(i, n-3)) // n-3 twice, n-1 never: the count alone matches
				v.see(&p)
			}
		}, true},
		{"reordered within a publisher", func(v *verifier) {
			for _, i := range []int64{0, 1, 4, 3, 2, 5, 6, 7, 8, 9} {
				p := good(i)
				v.see(&p)
			}
		}, true},
		{"a hop missing", func(v *verifier) {
			for i := range int64(n) {
				p := newPayload(i, i%2, 0)
				if i != 5 {
					p.hop()
				}
				v.see(&p)
			}
		}, true},
		{"a hop done twice", func(v *verifier) {
			for i := range int64(n) {
				p := good(i)
				if i == 5 {
					p.hop()
				}
				v.see(&p)
			}
		}, true},
		{"a publisher index out of range", func(v *verifier) {
			for i := range int64(n) {
				p := good(i)
				if i == 5 {
					p.src = 7
				}
				v.see(&p)
			}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(1, 2, true)
			tc.feed(v)
			if err := check(n, v); (err != nil) != tc.fails {
				t.Fatalf("check: %v; want failure %v", err, tc.fails)
			}
		})
	}
}

func TestVerifierDiamond(t *testing.T) {
	v := newVerifier(0, 1, true)
	v.diamond = true
	for i := range int64(4) {
		p := newPayload(i, 0, 0)
		p.left = leftOf(&p)
		if i != 2 { // the right branch skipped entry 2
			p.right = rightOf(&p)
		}
		v.see(&p)
	}
	if err := check(4, v); err == nil || !strings.Contains(err.Error(), "1 of them bad") {
		t.Fatalf("check: %v; want the entry without its right branch reported", err)
	}
}

func TestCorruptHookHitsOneEntry(t *testing.T) {
	for seq := range int64(5) {
		p := newPayload(seq, 0, 3)
		if got := p.valid(0); got != (seq != 2) {
			t.Errorf("seq %d valid = %v with corrupt=3 (seq 2)", seq, got)
		}
	}
}

func TestRecordBoundsCorrection(t *testing.T) {
	h := hdrhistogram.New(1, int64(100*time.Second), 3)
	record(h, 1000, 100, 1000) // within the limit: the library's own correction
	if got := h.TotalCount(); got != 10 {
		t.Fatalf("1000ns at a 100ns interval recorded %d values, want 10", got)
	}
	h.Reset()
	record(h, int64(time.Hour), 1000, 50) // a clock jump: clamped, and 50 corrections only
	if got, top := h.TotalCount(), h.Max(); got != 51 || !h.ValuesAreEquivalent(top, int64(100*time.Second)) {
		t.Fatalf("an hour at a 1µs interval recorded %d values up to %d, want 51 up to 100s", got, top)
	}
}
