package flow_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// payload is what every benchmark entry carries, on both sides: each level writes one field
// derived from seq, and the last level checks all of them.
type payload struct {
	seq, a, b int64
}

func (p payload) valid() bool { return p.a == p.seq*3 && p.b == p.a+1 }

// tally is the verifying sink's account: every entry counted and summed, so a lost,
// duplicated or corrupted entry fails the benchmark.
type tally struct {
	n, sum, bad atomic.Int64
}

func (t *tally) check(b *testing.B, n int) {
	b.Helper()
	want := int64(n) * int64(n-1) / 2
	if t.n.Load() != int64(n) || t.sum.Load() != want || t.bad.Load() != 0 {
		b.Fatalf("sink saw %d entries summing %d (%d corrupt); want %d summing %d",
			t.n.Load(), t.sum.Load(), t.bad.Load(), n, want)
	}
}

// sinkTally is a per-stage tally flushed once at the end, so the sink does not contend on
// shared counters per entry; the channel side does the same.
type sinkTally struct {
	n, sum, bad int64
	into        *tally
}

func (s *sinkTally) add(p payload) {
	if !p.valid() {
		s.bad++
	}
	s.n++
	s.sum += p.seq
}

func (s *sinkTally) flush() {
	s.into.n.Add(s.n)
	s.into.sum.Add(s.sum)
	s.into.bad.Add(s.bad)
}

// step is what level lv (after the source) does to a payload on both sides.
func step(lv int, p payload) payload {
	if lv == 0 {
		p.a = p.seq * 3
	} else if p.a == p.seq*3 {
		p.b = p.a + 1
	}
	return p
}

func keyOf(p payload) uint64 { return uint64(p.seq) }

// benchSource adds a source of one stage that emits n payloads, seq 0 to n-1, once release
// is closed, then finishes.
func benchSource(g *flow.Graph, n int, release <-chan struct{}, opts ...flow.Option) *flow.Stream[payload] {
	return flow.Source(g, 1, func(s *flow.SourceStage[payload]) error {
		<-release
		for i := range n {
			if err := s.Emit(payload{seq: int64(i)}); err != nil {
				return err
			}
		}
		s.Finish()
		return nil
	}, opts...)
}

// timeGraph starts g, then times it from closing release (which lets its source emit) until
// it has run to completion.
func timeGraph(b *testing.B, g *flow.Graph, release chan struct{}) {
	if err := g.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	close(release)
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
}

// runFlow builds a graph whose single source stage publishes n payloads once released,
// followed by levels of the given widths; the last one verifies (by key when keyed). It runs
// the graph to completion.
func runFlow(b *testing.B, n, capacity int, widths []int, keyed bool) {
	g := flow.New()
	release := make(chan struct{})
	stream := benchSource(g, n, release, flow.Capacity(capacity))
	for lv, w := range widths[:len(widths)-1] {
		stream = stream.Then(w, func(p payload) payload { return step(lv, p) }, flow.Capacity(capacity))
	}
	if keyed {
		stream = stream.KeyBy(keyOf)
	}
	var total tally
	last := widths[len(widths)-1]
	sinks := make([]sinkTally, last)
	for i := range sinks {
		sinks[i].into = &total
	}
	stream.SinkBatch(last, func(bt *flow.Batch[payload]) error {
		st := &sinks[bt.Stage().Index()]
		for i := range bt.Len() {
			st.add(*bt.At(i))
		}
		return nil
	})
	timeGraph(b, g, release)
	for i := range sinks {
		sinks[i].flush()
	}
	total.check(b, n)
}

// runChan is runFlow built from goroutines and buffered channels: the same goroutine count
// per level, and as many buffered slots between two levels as the rings of the writing
// level hold. Shared work is one channel that every worker of the next level reads; key
// routing is one channel per worker.
func runChan(b *testing.B, n, capacity int, widths []int, keyed bool) {
	ins := make([][]chan payload, len(widths))
	for lv, w := range widths {
		slots := capacity
		if lv > 0 {
			slots *= widths[lv-1]
		}
		k := 1
		if keyed && lv == len(widths)-1 {
			k = w
		}
		for range k {
			ins[lv] = append(ins[lv], make(chan payload, max(slots/k, 1)))
		}
	}
	var total tally
	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Go(func() {
		<-release
		for i := range n {
			p := payload{seq: int64(i)}
			ins[0][keyOf(p)%uint64(len(ins[0]))] <- p
		}
		for _, c := range ins[0] {
			close(c)
		}
	})
	for lv, w := range widths {
		var level sync.WaitGroup
		for i := range w {
			in := ins[lv][i%len(ins[lv])]
			level.Add(1)
			wg.Go(func() {
				defer level.Done()
				if lv == len(widths)-1 {
					st := sinkTally{into: &total}
					for p := range in {
						st.add(p)
					}
					st.flush()
					return
				}
				outs := ins[lv+1]
				for p := range in {
					p = step(lv, p)
					outs[keyOf(p)%uint64(len(outs))] <- p
				}
			})
		}
		if lv < len(widths)-1 {
			wg.Go(func() {
				level.Wait()
				for _, c := range ins[lv+1] {
					close(c)
				}
			})
		}
	}
	b.ResetTimer()
	close(release)
	wg.Wait()
	b.StopTimer()
	total.check(b, n)
}

// benchCaps are the ring capacities each topology runs at; the channel baseline gets the
// same number of buffered slots. Capacity matters most on hosts with fewer cores than
// stages, where larger rings mean fewer thread switches per entry.
var benchCaps = []int{1024, 8192, 16384}

func benchTopology(b *testing.B, widths []int, keyed bool) {
	for _, capacity := range benchCaps {
		b.Run(fmt.Sprintf("cap=%d/flow", capacity), func(b *testing.B) {
			b.ReportAllocs()
			runFlow(b, b.N, capacity, widths, keyed)
		})
		b.Run(fmt.Sprintf("cap=%d/chan", capacity), func(b *testing.B) {
			b.ReportAllocs()
			runChan(b, b.N, capacity, widths, keyed)
		})
	}
}

// BenchmarkSeed is the seed topology: one source stage, then 2, 4 and 2 stages with shared
// work at each level; the last level verifies every payload. One op is one entry.
func BenchmarkSeed(b *testing.B) { benchTopology(b, []int{2, 4, 2}, false) }

// BenchmarkChain is a linear chain of three one-stage levels after the source.
func BenchmarkChain(b *testing.B) { benchTopology(b, []int{1, 1, 1}, false) }

// BenchmarkKeyed feeds a key-partitioned level of four stages through two workers.
func BenchmarkKeyed(b *testing.B) { benchTopology(b, []int{1, 2, 4}, true) }

// BenchmarkLevelKinds runs a source and two one-stage levels of one kind into a sink, each
// level adding one to every payload; the Then chain is the baseline the other kinds (whose
// functions have other shapes) are compared with in the same run. One op is one entry.
func BenchmarkLevelKinds(b *testing.B) {
	inc := func(p payload) payload { p.a++; return p }
	kinds := []struct {
		name  string
		level func(*flow.Stream[payload]) *flow.Stream[payload]
	}{
		{"then", func(s *flow.Stream[payload]) *flow.Stream[payload] { return s.Then(1, inc) }},
		{"filter", func(s *flow.Stream[payload]) *flow.Stream[payload] {
			return s.Filter(1, func(p payload) (payload, bool) { return inc(p), true })
		}},
		{"thenerr", func(s *flow.Stream[payload]) *flow.Stream[payload] {
			return s.ThenErr(1, func(p payload) (payload, error) { return inc(p), nil })
		}},
		{"expand", func(s *flow.Stream[payload]) *flow.Stream[payload] {
			return s.Expand(1, func(p payload, e *flow.Emitter[payload]) { e.Emit(inc(p)) })
		}},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			b.ReportAllocs()
			g := flow.New()
			n := b.N
			release := make(chan struct{})
			s := k.level(k.level(benchSource(g, n, release)))
			var sum int64
			s.SinkErr(1, func(p payload) error { sum += p.a; return nil })
			timeGraph(b, g, release)
			if sum != 2*int64(n) {
				b.Fatalf("the sink summed %d, want %d", sum, 2*n)
			}
		})
	}
}
