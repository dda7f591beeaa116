package flow_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/loopyring/loopyring/flow"
)

func TestLinearChain(t *testing.T) {
	n := scale(50000, 5000)
	g := flow.New()
	in := flow.Input[int](g, flow.Capacity(64))
	got := new(collector[string])
	in.Then(1, func(v int) int { return v * 3 }, flow.Capacity(8)).
		Filter(1, func(v int) (int, bool) { return v + 1, v%2 == 0 }).
		Then(1, func(v int) string { return string(rune('a' + v%26)) }).
		Sink(1, got.add)
	start(t, g)
	publishAll(t, in, n, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range n {
		if v := i * 3; v%2 == 0 {
			want = append(want, string(rune('a'+(v+1)%26)))
		}
	}
	if diff := cmp.Diff(want, got.items()); diff != "" {
		t.Fatalf("chain output differs (-want +got):\n%s", diff)
	}
}

func TestExpand(t *testing.T) {
	g := flow.New()
	in := flow.Input[int](g)
	got := new(collector[int])
	in.Expand(1, func(v int, e *flow.Emitter[int]) {
		for k := range v % 4 {
			e.Emit(v*10 + k)
		}
	}, flow.Capacity(4)).Sink(1, got.add)
	start(t, g)
	n := 1000
	publishAll(t, in, n, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	var want []int
	for v := range n {
		for k := range v % 4 {
			want = append(want, v*10+k)
		}
	}
	if diff := cmp.Diff(want, got.items()); diff != "" {
		t.Fatalf("expand output differs (-want +got):\n%s", diff)
	}
}

func TestFanOutEachLevelSeesEverything(t *testing.T) {
	n := scale(20000, 2000)
	g := flow.New()
	in := flow.Input[int](g)
	doubled := in.Then(2, func(v int) int { return v * 2 })
	var a, b atomic.Int64
	var ca, cb atomic.Int64
	doubled.Sink(1, func(v int) { a.Add(int64(v)); ca.Add(1) })
	doubled.Sink(3, func(v int) { b.Add(int64(v)); cb.Add(1) })
	start(t, g)
	publishAll(t, in, n, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	want := int64(n * (n - 1)) // sum of 2i
	if ca.Load() != int64(n) || cb.Load() != int64(n) || a.Load() != want || b.Load() != want {
		t.Fatalf("fan-out: counts %d, %d sums %d, %d; want %d entries summing to %d each",
			ca.Load(), cb.Load(), a.Load(), b.Load(), n, want)
	}
}

func TestFanInMerge(t *testing.T) {
	n := scale(20000, 2000)
	g := flow.New()
	left := flow.Input[int](g, flow.Name("left"))
	right := flow.Input[int](g, flow.Name("right"))
	neg := right.Then(1, func(v int) int { return -v - 1 })
	got := new(collector[int])
	flow.Merge(left.Stream, neg).Sink(1, got.add)
	start(t, g)
	var wg sync.WaitGroup
	wg.Go(func() { publishAll(t, left, n, func(i int) int { return i }) })
	wg.Go(func() { publishAll(t, right, n, func(i int) int { return i }) })
	wg.Wait()
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	items := got.items()
	var pos, negs []int
	for _, v := range items {
		if v >= 0 {
			pos = append(pos, v)
		} else {
			negs = append(negs, -v-1)
		}
	}
	// Each input's entries arrive complete and in order; their interleaving is free.
	if !slices.Equal(pos, seq(n)) || !slices.Equal(negs, seq(n)) {
		t.Fatalf("fan-in: got %d left and %d right entries, in order: %v %v", len(pos), len(negs),
			slices.IsSorted(pos), slices.IsSorted(negs))
	}
}

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
	in.Then(3, func(v int) int { return v }).
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
	in2.Then(4, func(v int) int { return v }).Sink(1, func(v int) {
		mu.Lock()
		perStage[v]++
		mu.Unlock()
	})
	start(t, g)
	publishAll(t, in, n, func(i int) int { return i })
	publishAll(t, in2, n, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
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
	in.Then(4, func(v int) int { return v }, flow.Name("work")).Sink(1, func(int) {})
	start(t, g)
	publishAll(t, in, 4000, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
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
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
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
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
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
	in.Broadcast().Then(3, func(v int) int { return v }, flow.Name("bc")).
		Sink(1, func(v int) { total.Add(int64(v)); count.Add(1) })
	start(t, g)
	publishAll(t, in, n, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
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

// order is an entry that the phases of a diamond stamp in place.
type order struct {
	id                           int
	journaled, replicated, final bool
	bad                          string
}

func TestDiamondOfPhases(t *testing.T) {
	n := scale(30000, 3000)
	g := flow.New()
	in := flow.Input[order](g, flow.Capacity(16))
	orders := in.Then(2, func(o order) order { return o }, flow.Capacity(8))
	a := orders.Phase(1, func(o *order) {
		if o.journaled || o.replicated || o.final {
			o.bad = "A after others"
		}
		o.journaled = true
	}, flow.Name("A"))
	var bSeen, cSeen atomic.Int64
	b := a.Phase(2, func(o *order) {
		if !o.journaled {
			o.bad = "B before A"
		}
		bSeen.Add(1)
	}, flow.Name("B"))
	c := a.Phase(1, func(o *order) {
		if !o.journaled {
			o.bad = "C before A"
		}
		o.replicated = true
	}, flow.Name("C"))
	d := flow.Merge(b, c).Phase(1, func(o *order) {
		if !o.replicated {
			o.bad = "D before C"
		}
		cSeen.Add(1)
		o.final = true
	}, flow.Name("D"))
	got := new(collector[order])
	d.Sink(1, got.add)
	start(t, g)
	publishAll(t, in, n, func(i int) order { return order{id: i} })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	items := got.items()
	if len(items) != n || bSeen.Load() != int64(n) || cSeen.Load() != int64(n) {
		t.Fatalf("diamond: sink got %d, B saw %d, D saw %d; want %d each", len(items), bSeen.Load(), cSeen.Load(), n)
	}
	ids := make([]int, 0, n)
	for _, o := range items {
		if o.bad != "" || !o.final {
			t.Fatalf("order %d: %q (final=%v)", o.id, o.bad, o.final)
		}
		ids = append(ids, o.id)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, seq(n)) {
		t.Fatal("diamond: the sink did not see every order exactly once")
	}
}

func TestSinkBatchSeesEveryRoutedEntryOnce(t *testing.T) {
	n := scale(20000, 2000)
	for _, keyed := range []bool{false, true} {
		g := flow.New()
		in := flow.Input[int](g)
		s := in.Then(2, func(v int) int { return v })
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
		publishAll(t, in, n, func(i int) int { return i })
		if err := stopWithin(t, g, drainLimit); err != nil {
			t.Fatal(err)
		}
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
	publishAll(t, in, 300, func(i int) int { return i })
	publishAll(t, in2, 300, func(i int) int { return i })
	if err := stopWithin(t, g, drainLimit); err != nil {
		t.Fatal(err)
	}
	if len(where) != 300 || negatives.Load() != 300 {
		t.Fatalf("saw %d and %d entries, want 300 each", len(where), negatives.Load())
	}
	for v, st := range where {
		if st != v%3 {
			t.Fatalf("entry %d reached stage %d, want %d", v, st, v%3)
		}
	}
}
