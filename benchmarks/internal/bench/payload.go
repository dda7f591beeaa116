package bench

import (
	"fmt"
	"time"
)

// payload is what every entry carries on both sides. The publisher fills seq, src and a
// check word derived from them; each stage that does work advances the check word (hop);
// the last reader recomputes the whole chain. A lost, duplicated, reordered or corrupted
// entry is therefore seen, and the work a stage does cannot be optimised away. At 56 bytes
// it is larger than a pointer, so a channel copies it as a ring slot is written: neither
// side boxes it.
type payload struct {
	seq   int64  // 0..N-1 over all publishers; publisher src owns seq ≡ src (mod publishers)
	src   int64  // the publisher's index
	sum   uint64 // check word: seed(seq, src), then mix once per hop
	hops  int64  // stages that advanced sum
	left  uint64 // written by the diamond's left reader
	right uint64 // written by the diamond's right reader
	at    int64  // latency runs: when the entry was published, in ns since the run began
}

// mix is a cheap bijective scrambler (the finaliser of splitmix64), the unit of a stage's work.
func mix(x uint64) uint64 {
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return x
}

func seedSum(seq, src int64) uint64 { return mix(uint64(seq)<<8 ^ uint64(src) ^ 0x9e3779b97f4a7c15) }

// newPayload is what publisher src writes for seq. corrupt (1-based, 0 for none) is the test
// hook that proves the verifier is not vacuous: that entry is written wrong.
func newPayload(seq, src, corrupt int64) payload {
	p := payload{seq: seq, src: src, sum: seedSum(seq, src)}
	if seq+1 == corrupt {
		p.sum ^= 1
	}
	return p
}

// hop is one stage's work on an entry.
func (p *payload) hop() {
	p.sum = mix(p.sum)
	p.hops++
}

func leftOf(p *payload) uint64  { return mix(p.sum ^ 0x1) }
func rightOf(p *payload) uint64 { return mix(p.sum ^ 0x2) }

// valid reports whether p went through exactly hops stages unharmed.
func (p *payload) valid(hops int) bool {
	if p.hops != int64(hops) {
		return false
	}
	s := seedSum(p.seq, p.src)
	for range hops {
		s = mix(s)
	}
	return p.sum == s
}

// since returns the nanoseconds from base to now on the monotonic clock.
func since(base time.Time) int64 { return int64(time.Since(base)) }

// verifier is one reader's account of what it saw. It is owned by one goroutine while the
// run lasts and read after the run has joined it, so it needs no atomics.
type verifier struct {
	hops    int     // hops every entry must show
	sources int     // publishers; seq ≡ src (mod sources)
	ordered bool    // whether each publisher's entries must arrive in publication order
	diamond bool    // whether left and right must be filled in
	next    []int64 // per publisher, the next seq expected when ordered
	n       int64
	seqSum  int64
	bad     int64
	first   string // the first problem seen, for the error
}

func newVerifier(hops, sources int, ordered bool) *verifier {
	v := &verifier{hops: hops, sources: sources, ordered: ordered, next: make([]int64, sources)}
	for i := range v.next {
		v.next[i] = int64(i)
	}
	return v
}

// see checks one entry. After an entry out of order it expects the publisher's entries to
// go on from that one, so one fault is counted once rather than poisoning the rest.
func (v *verifier) see(p *payload) {
	v.n++
	v.seqSum += p.seq
	if p.src < 0 || p.src >= int64(v.sources) {
		v.badEntry(p)
		return
	}
	ok := p.valid(v.hops)
	if v.diamond {
		ok = ok && p.left == leftOf(p) && p.right == rightOf(p)
	}
	if v.ordered {
		ok = ok && p.seq == v.next[p.src]
		v.next[p.src] = p.seq + int64(v.sources)
	}
	if !ok {
		v.badEntry(p)
	}
}

// badEntry is see's rare path, kept out of line so that see stays small.
func (v *verifier) badEntry(p *payload) {
	if v.bad == 0 {
		v.first = fmt.Sprintf("%+v", *p)
	}
	v.bad++
}

// check reports whether the verifiers together saw each of the n entries exactly once,
// intact. The seq sum catches an entry seen twice in place of another.
func check(n int, vs ...*verifier) error {
	var got, sum, bad int64
	first := ""
	for _, v := range vs {
		got += v.n
		sum += v.seqSum
		bad += v.bad
		if first == "" {
			first = v.first
		}
	}
	want := int64(n) * int64(n-1) / 2
	if got != int64(n) || sum != want || bad != 0 {
		return fmt.Errorf("readers saw %d entries with seqs summing %d, %d of them bad (first %s); want %d summing %d",
			got, sum, bad, first, n, want)
	}
	return nil
}
