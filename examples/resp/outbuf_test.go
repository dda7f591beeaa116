package main

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestOutbufMatchesModel writes random replies into an outbuf and drops random prefixes,
// as partial writes do, comparing what is pending with a plain byte slice.
func TestOutbufMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	large := []byte(bigValue(refMin + 5))
	for round := range scale(200) {
		var o outbuf
		var model []byte
		for range 50 {
			switch rng.IntN(5) {
			case 0:
				o.write(replyOK)
				model = append(model, replyOK...)
			case 1:
				n := rng.Int64N(1 << 40)
				o.writeInt(n)
				model = appendInt(model, n)
			case 2:
				v := []byte(bigValue(rng.IntN(100)))
				o.writeBulk(v)
				model = appendBulk(model, v)
			case 3:
				o.writeBulk(large)
				model = appendBulk(model, large)
			case 4:
				k := rng.IntN(o.len() + 1)
				o.wrote(k)
				model = model[k:]
			}
			if o.len() != len(model) {
				t.Fatalf("round %d: len %d, model %d", round, o.len(), len(model))
			}
			if got := bytes.Join(o.pending(), nil); !bytes.Equal(got, model) {
				t.Fatalf("round %d: pending differs from the model (%d bytes, want %d)", round, len(got), len(model))
			}
		}
	}
}

// TestOutbufRefersToLargeValues: a large value is written from where it is stored, not
// copied, and is no longer held once written.
func TestOutbufRefersToLargeValues(t *testing.T) {
	var o outbuf
	v := []byte(bigValue(refMin))
	o.writeBulk(v)
	segs := o.pending()
	if len(segs) != 3 || &segs[1][0] != &v[0] {
		t.Fatalf("a %d-byte value was copied into %d slices", len(v), len(segs))
	}
	o.wrote(len(segs[0]) + len(v))
	for _, s := range o.segs {
		if len(s) > 0 && &s[0] == &v[0] {
			t.Fatal("the written value is still held")
		}
	}
	if got := string(bytes.Join(o.pending(), nil)); got != "\r\n" {
		t.Fatalf("pending %q after the value, want the CRLF", got)
	}
}
