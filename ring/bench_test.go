package ring_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/loopyring/loopyring/ring"
)

// Every benchmark moves b.N entries of the same payload through a ring and
// through its channel baseline, with the same capacity and the same number of
// goroutines, and verifies every entry on the reading side. "batch=k" is the
// publisher's claim size; readers take whatever is available (the ring's
// natural batching), the channel reader receives one value at a time, which is
// all a channel offers.

const benchCap = 1024

type payload struct {
	seq  int64
	a, b int64
}

func mkPayload(src, seq int64) payload { return payload{seq: seq, a: src, b: seq*31 + src} }

func (p *payload) valid(src, seq int64) bool {
	return p.seq == seq && p.a == src && p.b == seq*31+src
}

// publish writes n entries from source src into buf, claiming k at a time.
func publish(b *testing.B, buf *ring.Buffer[payload], src int64, n, k int) {
	ctx := context.Background()
	for i := 0; i < n; {
		c := min(k, n-i)
		lo, err := buf.Claim(ctx, c)
		if err != nil {
			b.Error(err)
			return
		}
		for j := range c {
			*buf.At(lo + int64(j)) = mkPayload(src, int64(i+j))
		}
		buf.Commit(lo, c)
		i += c
	}
}

// consume reads until the ring is drained, checking per-source order. It
// returns the entries and the batches it saw.
func consume(b *testing.B, buf *ring.Buffer[payload], r *ring.Reader, sources int) (count, batches int) {
	next := make([]int64, sources)
	ctx := context.Background()
	for {
		lo, hi, err := r.Wait(ctx)
		if errors.Is(err, ring.ErrClosed) {
			return count, batches
		}
		batches++
		for s := lo; s < hi; s++ {
			p := buf.At(s)
			if !p.valid(p.a, next[p.a]) {
				b.Errorf("entry %d: %+v, want source %d seq %d", s, *p, p.a, next[p.a])
				return count, batches
			}
			next[p.a]++
		}
		count += int(hi - lo)
		r.Release(hi)
	}
}

func consumeChan(b *testing.B, ch <-chan payload, sources int) int {
	next := make([]int64, sources)
	count := 0
	for p := range ch {
		if !p.valid(p.a, next[p.a]) {
			b.Errorf("entry %+v, want source %d seq %d", p, p.a, next[p.a])
			return count
		}
		next[p.a]++
		count++
	}
	return count
}

// runRing runs writers publishers (b.N entries in all, claiming k at a time)
// into a ring of capacity slots with readers readers, each checking everything.
func runRing(b *testing.B, capacity, writers, readers, k int) {
	var opts []ring.Option
	if writers > 1 {
		opts = append(opts, ring.MultiPublisher())
	}
	buf := mustNew[payload](b, capacity, opts...)
	rs := make([]*ring.Reader, readers)
	for i := range rs {
		rs[i] = mustReader(b, buf)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var rw sync.WaitGroup
	var batches atomic.Int64
	for _, r := range rs {
		rw.Go(func() {
			got, n := consume(b, buf, r, writers)
			if got != b.N {
				b.Errorf("reader saw %d entries, want %d", got, b.N)
			}
			batches.Add(int64(n))
		})
	}
	var pw sync.WaitGroup
	for w := range writers {
		n := b.N / writers
		if w == 0 {
			n += b.N % writers
		}
		pw.Go(func() { publish(b, buf, int64(w), n, k) })
	}
	pw.Wait()
	buf.Close()
	rw.Wait()
	// How much the readers batched naturally: the main lever of the ring.
	b.ReportMetric(float64(b.N*readers)/float64(max(1, batches.Load())), "entries/batch")
}

// runChan is runRing's baseline: writers send into each of readers channels
// of capacity slots.
func runChan(b *testing.B, capacity, writers, readers int) {
	chs := make([]chan payload, readers)
	for i := range chs {
		chs[i] = make(chan payload, capacity)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var rw sync.WaitGroup
	for _, ch := range chs {
		rw.Go(func() {
			if got := consumeChan(b, ch, writers); got != b.N {
				b.Errorf("reader saw %d entries, want %d", got, b.N)
			}
		})
	}
	var pw sync.WaitGroup
	for w := range writers {
		n := b.N / writers
		if w == 0 {
			n += b.N % writers
		}
		pw.Go(func() {
			for i := range n {
				p := mkPayload(int64(w), int64(i))
				for _, ch := range chs {
					ch <- p
				}
			}
		})
	}
	pw.Wait()
	for _, ch := range chs {
		close(ch)
	}
	rw.Wait()
}

func BenchmarkSPSC(b *testing.B) {
	for _, k := range []int{1, 16, 256} {
		b.Run(fmt.Sprintf("batch=%d", k), func(b *testing.B) { runRing(b, benchCap, 1, 1, k) })
	}
	b.Run("chan", func(b *testing.B) { runChan(b, benchCap, 1, 1) })
}

func BenchmarkMPSC(b *testing.B) {
	for _, k := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch=%d", k), func(b *testing.B) { runRing(b, benchCap, 4, 1, k) })
	}
	b.Run("chan", func(b *testing.B) { runChan(b, benchCap, 4, 1) })
}

func BenchmarkMulticast(b *testing.B) {
	b.Run("ring", func(b *testing.B) { runRing(b, benchCap, 1, 3, 1) })
	b.Run("chan", func(b *testing.B) { runChan(b, benchCap, 1, 3) })
}

// deepCap is the capacity of the deep-ring benchmarks: room for a publisher to
// run far ahead of its readers, where how much a reader takes per hand-over
// decides the throughput (go-disruptor's benchmarks use it too).
const deepCap = 1 << 16

func BenchmarkSPSC64K(b *testing.B) {
	for _, k := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch=%d", k), func(b *testing.B) { runRing(b, deepCap, 1, 1, k) })
	}
	b.Run("chan", func(b *testing.B) { runChan(b, deepCap, 1, 1) })
}

func BenchmarkMulticast64K(b *testing.B) {
	b.Run("batch=16", func(b *testing.B) { runRing(b, deepCap, 1, 3, 16) })
	b.Run("chan", func(b *testing.B) { runChan(b, deepCap, 1, 3) })
}
