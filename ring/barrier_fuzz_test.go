package ring_test

import (
	"testing"

	"github.com/loopyring/loopyring/ring"
)

// barrierCases seed FuzzBarrier and run as a table test. The encoding:
//
//	ops[0]  capacity 2<<(b%4); bit 4 selects MultiPublisher
//	ops[1]  1+b%5 readers
//	next    one byte per reader after the first: bit u set makes it run After reader u (u < i)
//	rest    operations, by the low two bits:
//	        0 claim (b>>2)%capacity+1 slots
//	        1 commit an outstanding claim ((b>>2)%outstanding; always the oldest when single)
//	        2 reader (b>>2)%readers reads and releases all it got, or half with bit 7
//	        3 close the ring when (b>>2)%16 == 0, else only check every reader
//
// FuzzAvailability covers the multi-publisher availability marks with one reader;
// TestModel covers one After edge. This target covers the barrier arithmetic of any
// DAG of phases (diamonds, chains, several roots and leaves) under any release order.
var barrierCases = []opsCase{
	{"chain of three", []byte{1, 2, 0b1, 0b10, 4, 1, 2, 6, 10, 2, 6, 10}},
	{"diamond", []byte{2, 3, 0b1, 0b1, 0b110, 12, 1, 2, 6, 130, 10, 14, 2, 6, 10, 14}},
	{"two roots one join", []byte{1, 2, 0b0, 0b11, 8, 1, 6, 2, 10, 6, 10}},
	{"leaf lags, publisher gated", []byte{0, 1, 0b1, 4, 1, 2, 4, 1, 4, 0, 4, 1, 6, 4, 1}},
	{"multi out of order", []byte{0x12, 2, 0b1, 0b10, 4, 4, 4, 5, 1, 1, 2, 6, 10, 2, 6, 10}},
	{"half releases", []byte{3, 3, 0b1, 0b11, 0b100, 60, 1, 130, 134, 138, 142, 130, 134, 138, 142}},
	{"close drains", []byte{0x11, 2, 0b1, 0b1, 8, 3, 1, 2, 6, 10, 3, 2, 6, 10}},
	{"fenced multi out of order", []byte{0x32, 2, 0b1, 0b10, 4, 4, 4, 5, 1, 1, 2, 6, 10, 2, 6, 10}},
	{"fenced close drains", []byte{0x31, 2, 0b1, 0b1, 8, 3, 1, 2, 6, 10, 3, 2, 6, 10}},
}

// barrierModel is the reference: a slice of claimed slots and, per reader, what it
// released, what it last got, and its upstreams.
type barrierModel struct {
	capacity  int64
	end       int64 // claimed up to here
	committed map[int64]bool
	open      [][2]int64
	pos       []int64 // released by each reader
	got       []int64 // end of the last range each reader got
	cache     []int64 // the barrier each reader last computed; it recomputes once below it
	up        [][]int
	leaf      []bool // gates the publisher
	closed    bool
	multi     bool
}

func (m *barrierModel) prefix(from int64) int64 {
	for m.committed[from] {
		from++
	}
	return from
}

// avail is what reader i may read now: the committed prefix for a root, the lowest
// release of its upstreams otherwise.
func (m *barrierModel) avail(i int) int64 {
	if len(m.up[i]) == 0 {
		return m.prefix(m.pos[i])
	}
	lo := m.pos[m.up[i][0]]
	for _, u := range m.up[i][1:] {
		lo = min(lo, m.pos[u])
	}
	return lo
}

func (m *barrierModel) gate() int64 {
	g := int64(1<<63 - 1)
	for i, leaf := range m.leaf {
		if leaf {
			g = min(g, m.pos[i])
		}
	}
	return g
}

func checkBarrier(t *testing.T, ops []byte) {
	if len(ops) < 2 {
		return
	}
	capacity := int64(2) << (ops[0] % 4)
	multi := ops[0]&0x10 != 0
	fenced := ops[0]&0x20 != 0 // on a multi-publisher ring: marks beside the entries
	nr := 1 + int(ops[1]%5)
	ops = ops[2:]
	const start = 1<<62 - 7 // slot indexes and sequences far from zero, as after a long run
	opts := []ring.Option{ring.WithStart(start)}
	if multi {
		opts = append(opts, ring.MultiPublisher())
	}
	if fenced {
		opts = append(opts, ring.Fenced())
	}
	b := mustNew[int64](t, int(capacity), opts...)
	m := &barrierModel{capacity: capacity, end: start, multi: multi, committed: map[int64]bool{},
		pos: make([]int64, nr), got: make([]int64, nr), cache: make([]int64, nr), up: make([][]int, nr), leaf: make([]bool, nr)}
	rd := make([]*ring.Reader, nr)
	batch := make([]int64, nr)
	for i := range rd {
		var mask byte
		if i > 0 && len(ops) > 0 {
			mask, ops = ops[0], ops[1:]
		}
		var after []*ring.Reader
		for u := range i {
			if mask&(1<<u) != 0 {
				m.up[i] = append(m.up[i], u)
				after = append(after, rd[u])
			}
		}
		batch[i] = int64(1 + (i*3+int(mask))%int(capacity+1)) // some readers take less than they may
		rd[i] = mustReader(t, b, ring.After(after...), ring.MaxBatch(int(batch[i])))
		batch[i] = min(batch[i], capacity)
		m.pos[i], m.got[i], m.cache[i] = start, start, start
	}
	for i := range nr {
		m.leaf[i] = true
	}
	for i := range nr {
		for _, u := range m.up[i] {
			m.leaf[u] = false
		}
	}

	for step, op := range ops {
		switch op & 3 {
		case 0:
			n := int64(op>>2)%capacity + 1
			lo, ok := b.TryClaim(int(n))
			want := !m.closed && m.end+n-m.gate() <= capacity
			if ok != want {
				t.Fatalf("step %d: TryClaim(%d) ok=%v, model %v (claimed to %d, gate %d, closed %v)",
					step, n, ok, want, m.end, m.gate(), m.closed)
			}
			if !ok {
				continue
			}
			if lo != m.end {
				t.Fatalf("step %d: TryClaim(%d) = %d, model %d", step, n, lo, m.end)
			}
			for s := lo; s < lo+n; s++ {
				*b.At(s) = s ^ 0x3c3c
			}
			m.open = append(m.open, [2]int64{lo, n})
			m.end += n
		case 1:
			if len(m.open) == 0 {
				continue
			}
			i := 0
			if multi {
				i = int(op>>2) % len(m.open)
			}
			sp := m.open[i]
			m.open = append(m.open[:i], m.open[i+1:]...)
			b.Commit(sp[0], int(sp[1]))
			for s := sp[0]; s < sp[0]+sp[1]; s++ {
				m.committed[s] = true
			}
		case 2:
			i := int(op>>2) % nr
			lo, hi, ok := readChecked(t, step, b, rd[i], m, i, batch[i])
			if !ok {
				continue
			}
			rel := hi
			if op&0x80 != 0 {
				rel = lo + max(1, (hi-lo)/2)
			}
			rd[i].Release(rel)
			m.pos[i] = rel
		case 3:
			if (op>>2)%16 == 0 && !m.closed {
				b.Close()
				m.closed = true
			}
			for i := range rd {
				readChecked(t, step, b, rd[i], m, i, batch[i])
			}
		}
		checkBarrierState(t, step, b, rd, m)
	}
	for _, sp := range m.open { // a claimed range must be committed
		b.Commit(sp[0], int(sp[1]))
	}
}

// readChecked calls TryRead on reader i and compares it with the model: it must see
// something whenever something is available and never past the barrier. A reader
// recomputes its barrier only once it has released everything below the last one it
// computed (touching shared lines once per batch, not per entry), so the model keeps
// that cached barrier and demands the exact range.
func readChecked(t *testing.T, step int, b *ring.Buffer[int64], r *ring.Reader, m *barrierModel, i int, batch int64) (lo, hi int64, ok bool) {
	t.Helper()
	avail := m.avail(i)
	if m.cache[i] <= m.pos[i] {
		m.cache[i] = avail
		if m.multi && len(m.up[i]) == 0 {
			m.cache[i] = min(avail, m.pos[i]+batch) // scans the availability marks one batch ahead at most
		}
	}
	lo, hi, ok = r.TryRead()
	if ok != (avail > m.pos[i]) {
		t.Fatalf("step %d: reader %d TryRead ok=%v; model: released %d, barrier %d", step, i, ok, m.pos[i], avail)
	}
	if !ok {
		return
	}
	want := min(m.cache[i], m.pos[i]+batch)
	if lo != m.pos[i] || hi != want || hi > avail {
		t.Fatalf("step %d: reader %d TryRead = [%d, %d); model: released %d, barrier %d (cached %d), batch %d, last got %d",
			step, i, lo, hi, m.pos[i], avail, m.cache[i], batch, m.got[i])
	}
	for s := lo; s < hi; s++ {
		if v := *b.At(s); v != s^0x3c3c {
			t.Fatalf("step %d: reader %d: slot %d holds %d, want %d (overwritten before every leaf released it?)",
				step, i, s, v, s^0x3c3c)
		}
	}
	m.got[i] = max(m.got[i], hi)
	return
}

func checkBarrierState(t *testing.T, step int, b *ring.Buffer[int64], rd []*ring.Reader, m *barrierModel) {
	t.Helper()
	if want := int(m.prefix(m.gate()) - m.gate()); b.Len() != want {
		t.Fatalf("step %d: Len() = %d, model %d", step, b.Len(), want)
	}
	for i, r := range rd {
		if ring.SequenceOf(r) != m.pos[i] {
			t.Fatalf("step %d: reader %d Sequence() = %d, model %d", step, i, ring.SequenceOf(r), m.pos[i])
		}
		for _, u := range m.up[i] {
			if m.pos[i] > m.pos[u] {
				t.Fatalf("step %d: reader %d released %d, past its upstream %d at %d", step, i, m.pos[i], u, m.pos[u])
			}
		}
		if want := m.closed && m.pos[i] >= m.end; r.Drained() != want {
			t.Fatalf("step %d: reader %d Drained() = %v, model %v", step, i, r.Drained(), want)
		}
	}
}

func TestBarrier(t *testing.T) { runOps(t, barrierCases, checkBarrier) }

func FuzzBarrier(f *testing.F) { fuzzOps(f, barrierCases, checkBarrier) }
