package main

import (
	"math/rand/v2"
	"testing"
)

// TestShardOrder feeds one worker the requests of several parsers, merged at random as a
// worker reading their rings would see them: each parser's stream in order, the streams
// interleaved any way. It checks that every request runs once, that the multi-shard parts
// of each shard run in their sequence's order, and that each connection's requests run in
// the order it sent them.
func TestShardOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		owned  []uint32 // the worker's shards, of 4
		chance int      // one request in chance spans shards
	}{
		{"one shard", []uint32{1}, 2},
		{"two shards", []uint32{0, 2}, 3},
		{"mostly single", []uint32{3}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.chance)))
			for round := range scale(200) {
				checkShardOrder(t, rng, tc.owned, tc.chance, round)
			}
		})
	}
}

func checkShardOrder(t *testing.T, rng *rand.Rand, owned []uint32, chance, round int) {
	const shards, parsers, connsPerParser = 4, 3, 3
	mine := map[uint32]bool{}
	for _, s := range owned {
		mine[s] = true
	}
	seq := newSequencer(shards)
	conns := make([]*conn, parsers*connsPerParser)
	for i := range conns {
		conns[i] = &conn{id: uint64(i)}
	}
	streams := make([][]request, parsers)
	sent := map[*conn][]uint64{} // by connection: the seqs of its requests for this worker, in order
	total := 0
	for n := range 300 {
		p := rng.IntN(parsers)
		c := conns[p*connsPerParser+rng.IntN(connsPerParser)]
		r := request{c: c, seq: uint64(n), parts: 1, shard: uint32(rng.IntN(shards))}
		var parts []request
		if rng.IntN(chance) == 0 {
			touched := rng.Perm(shards)[:2+rng.IntN(shards-1)]
			ids := make([]uint32, len(touched))
			for i, s := range touched {
				ids[i] = uint32(s)
			}
			mseqs := make([]uint64, len(ids))
			seq.stamp(ids, mseqs)
			for i, s := range ids {
				q := r
				q.part, q.parts, q.shard, q.mseq = uint32(i), uint32(len(ids)), s, mseqs[i]
				parts = append(parts, q)
			}
		} else {
			parts = []request{r}
		}
		for _, q := range parts {
			if mine[q.shard] {
				streams[p] = append(streams[p], q)
				sent[c] = append(sent[c], q.seq)
				total++
			}
		}
	}
	o := newShardOrder()
	ran := map[*conn][]uint64{}
	nextPart := map[uint32]uint64{}
	count := 0
	run := func(r *request) {
		count++
		ran[r.c] = append(ran[r.c], r.seq)
		if r.ordered() {
			if r.mseq != nextPart[r.shard] {
				t.Fatalf("round %d: shard %d ran part %d before part %d", round, r.shard, r.mseq, nextPart[r.shard])
			}
			nextPart[r.shard]++
		}
	}
	for {
		var live []int
		for p, s := range streams {
			if len(s) > 0 {
				live = append(live, p)
			}
		}
		if len(live) == 0 {
			break
		}
		p := live[rng.IntN(len(live))]
		r := streams[p][0]
		streams[p] = streams[p][1:]
		o.add(&r, run)
	}
	if count != total || o.waiting() != 0 || len(o.due) != 0 {
		t.Fatalf("round %d: ran %d of %d requests; %d still held, %d parts due", round, count, total, o.waiting(), len(o.due))
	}
	for c, want := range sent {
		got := ran[c]
		for i := range want {
			if i >= len(got) || got[i] != want[i] {
				t.Fatalf("round %d: connection %d ran %v, sent %v", round, c.id, got, want)
			}
		}
	}
}
