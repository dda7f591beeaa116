package flow_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// Shared, key, partition and broadcast routing, through whole graphs (route_test.go checks
// the selector alone, FuzzRouting included).

// stamped is an entry of a type of its own, so that a level that changes the type is part
// of the chain under test.
type stamped struct {
	v int
}

func TestSharedRoutingDeliversEachEntryOnce(t *testing.T) {
	n := scale(40000, 4000)
	g := flow.New()
	in := flow.Input[int](g)
	var mu sync.Mutex
	seen := make(map[int]int)
	perStage := make(map[int]int)
	// Three upstream stages deal into four workers: every worker reads every upstream ring.
	in.Then(3, id).
		ThenBatch(4, func(b *flow.Batch[int], e *flow.Emitter[stamped]) error {
			for i := range b.Len() {
				e.Emit(stamped{v: *b.At(i)})
			}
			return nil
		}).
		Sink(2, func(s stamped) {
			mu.Lock()
			seen[s.v]++
			mu.Unlock()
		})
	in2 := flow.Input[int](g, flow.Name("second"))
	in2.Then(4, id).Sink(1, func(v int) {
		mu.Lock()
		perStage[v]++
		mu.Unlock()
	})
	start(t, g)
	publishAll(t, in, n, id)
	publishAll(t, in2, n, id)
	mustStop(t, g, nil)
	for _, m := range []map[int]int{seen, perStage} {
		if len(m) != n {
			t.Fatalf("saw %d distinct entries, want %d", len(m), n)
		}
		for v, c := range m {
			if c != 1 {
				t.Fatalf("entry %d delivered %d times", v, c)
			}
		}
	}
}

func TestSharedRoutingUsesEveryStage(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var counts [4]atomic.Int64
	in.Then(4, id, flow.Name("work")).Sink(1, func(int) {})
	start(t, g)
	publishAll(t, in, 4000, id)
	mustStop(t, g, nil)
	for _, s := range g.Stats() {
		if s.Level == "work" {
			counts[s.Stage].Add(int64(s.Out))
		}
	}
	for i := range counts {
		if counts[i].Load() != 1000 {
			t.Fatalf("stage %d published %d entries; shared routing deals 1000 to each of 4", i, counts[i].Load())
		}
	}
}

type keyed struct {
	key, n int
}

func TestKeyRoutingKeepsPerKeyOrderOnOneStage(t *testing.T) {
	const keys = 37
	n := scale(40000, 4000)
	g := flow.New()
	in := flow.Input[keyed](g)
	var mu sync.Mutex
	last := map[int]int{}
	var bad []string
	in.Then(1, func(k keyed) keyed { return k }).
		KeyBy(func(k keyed) uint64 { return uint64(k.key) }).
		Expand(4, func(k keyed, e *flow.Emitter[stamped]) {
			e.Emit(stamped{v: k.key*1_000_000 + k.n})
		}, flow.Name("by-key")).
		Sink(1, func(s stamped) {
			k, c := s.v/1_000_000, s.v%1_000_000
			mu.Lock()
			defer mu.Unlock()
			if p, ok := last[k]; ok && c <= p {
				bad = append(bad, "order")
			}
			last[k] = c
		})
	// A second keyed level records which stage each key reached.
	in2 := flow.Input[keyed](g, flow.Name("keys2"))
	in2.KeyBy(func(k keyed) uint64 { return uint64(k.key) }).
		ThenBatch(3, func(b *flow.Batch[keyed], e *flow.Emitter[keyed]) error {
			for i := range b.Len() {
				e.Emit(*b.At(i))
			}
			return nil
		}, flow.Name("batch-key")).
		Sink(1, func(keyed) {})
	start(t, g)
	publishAll(t, in, n, func(i int) keyed { return keyed{key: i % keys, n: i} })
	publishAll(t, in2, n, func(i int) keyed { return keyed{key: i % keys, n: i} })
	mustStop(t, g, nil)
	if len(bad) > 0 {
		t.Fatalf("per-key order broken %d times", len(bad))
	}
	if len(last) != keys {
		t.Fatalf("saw %d keys, want %d", len(last), keys)
	}
	var total uint64
	for _, s := range g.Stats() {
		if s.Level == "by-key" || s.Level == "batch-key" {
			total += s.Out
		}
	}
	if total != uint64(2*n) {
		t.Fatalf("keyed levels published %d entries, want %d (each exactly once)", total, 2*n)
	}
}

func TestKeyRoutingSendsAKeyToOneStage(t *testing.T) {
	g := flow.New()
	in := flow.Input[keyed](g)
	var mu sync.Mutex
	where := map[int]map[int]bool{} // key -> stages that saw it
	record := func(key, stage int) {
		mu.Lock()
		defer mu.Unlock()
		if where[key] == nil {
			where[key] = map[int]bool{}
		}
		where[key][stage] = true
	}
	routed := in.Then(2, func(k keyed) keyed { return k }).KeyBy(func(k keyed) uint64 { return uint64(k.key) })
	routed.Expand(4, func(k keyed, e *flow.Emitter[[2]int]) {
		e.Emit([2]int{k.key, e.Stage().Index()})
	}).Sink(1, func(p [2]int) { record(p[0], p[1]) })
	routed.ThenBatch(3, func(b *flow.Batch[keyed], e *flow.Emitter[[2]int]) error {
		for i := range b.Len() {
			e.Emit([2]int{1000 + b.At(i).key, e.Stage().Index()})
		}
		return nil
	}).Sink(1, func(p [2]int) { record(p[0], p[1]) })
	start(t, g)
	publishAll(t, in, scale(20000, 2000), func(i int) keyed { return keyed{key: i % 50, n: i} })
	mustStop(t, g, nil)
	if len(where) != 100 {
		t.Fatalf("saw %d keys, want 50 on each keyed level", len(where))
	}
	used := map[int]bool{}
	for k, stages := range where {
		if len(stages) != 1 {
			t.Fatalf("key %d reached stages %v; key routing must pick one", k, stages)
		}
		for s := range stages {
			used[s] = true
		}
	}
	if len(used) < 3 {
		t.Fatalf("50 keys reached only stages %v; the key hash does not spread", used)
	}
}

func TestBroadcastEveryStageSeesEverything(t *testing.T) {
	n := scale(10000, 1000)
	g := flow.New()
	in := flow.Input[int](g)
	var total, count atomic.Int64
	in.Broadcast().Then(3, id, flow.Name("bc")).
		Sink(1, func(v int) { total.Add(int64(v)); count.Add(1) })
	start(t, g)
	publishAll(t, in, n, id)
	mustStop(t, g, nil)
	if count.Load() != int64(3*n) || total.Load() != int64(3*n*(n-1)/2) {
		t.Fatalf("broadcast to 3 stages: %d entries summing %d; want %d summing %d",
			count.Load(), total.Load(), 3*n, 3*n*(n-1)/2)
	}
	for _, s := range g.Stats() {
		if s.Level == "bc" && s.Out != uint64(n) {
			t.Fatalf("stage %d of the broadcast level saw %d entries, want %d", s.Stage, s.Out, n)
		}
	}
}

func TestSinkBatchSeesEveryRoutedEntryOnce(t *testing.T) {
	n := scale(20000, 2000)
	for _, keyed := range []bool{false, true} {
		g := flow.New()
		in := flow.Input[int](g)
		s := in.Then(2, id)
		if keyed {
			s = s.KeyBy(func(v int) uint64 { return uint64(v % 7) })
		}
		var mu sync.Mutex
		seen := make(map[int]int)
		stages := make(map[int]bool)
		s.SinkBatch(3, func(b *flow.Batch[int]) error {
			mu.Lock()
			defer mu.Unlock()
			stages[b.Stage().Index()] = true
			for i := range b.Len() {
				seen[*b.At(i)]++
			}
			return nil
		}, flow.MaxBatch(16))
		start(t, g)
		publishAll(t, in, n, id)
		mustStop(t, g, nil)
		if len(seen) != n {
			t.Fatalf("keyed=%v: saw %d distinct entries, want %d", keyed, len(seen), n)
		}
		for v, c := range seen {
			if c != 1 {
				t.Fatalf("keyed=%v: entry %d seen %d times", keyed, v, c)
			}
		}
		if len(stages) != 3 {
			t.Fatalf("keyed=%v: batches reached stages %v, want all 3", keyed, stages)
		}
	}
}

func TestPartitionByNamesTheStage(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	var mu sync.Mutex
	where := map[int]int{} // value -> stage that saw it
	in.PartitionBy(func(v int) int { return v % 3 }).
		Expand(3, func(v int, e *flow.Emitter[[2]int]) { e.Emit([2]int{v, e.Stage().Index()}) }).
		Sink(1, func(p [2]int) {
			mu.Lock()
			where[p[0]] = p[1]
			mu.Unlock()
		})
	in2 := flow.Input[int](g, flow.Name("negative"))
	var negatives atomic.Int64
	in2.PartitionBy(func(v int) int { return -v }).SinkBatch(4, func(b *flow.Batch[int]) error {
		for i := range b.Len() {
			if p := (4 - *b.At(i)%4) % 4; p != b.Stage().Index() {
				t.Errorf("partition -%d reached stage %d, want %d", *b.At(i), b.Stage().Index(), p)
			}
			negatives.Add(1)
		}
		return nil
	})
	start(t, g)
	publishAll(t, in, 300, id)
	publishAll(t, in2, 300, id)
	mustStop(t, g, nil)
	if len(where) != 300 || negatives.Load() != 300 {
		t.Fatalf("saw %d and %d entries, want 300 each", len(where), negatives.Load())
	}
	for v, st := range where {
		if st != v%3 {
			t.Fatalf("entry %d reached stage %d, want %d", v, st, v%3)
		}
	}
}
