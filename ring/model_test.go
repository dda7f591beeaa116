package ring_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/loopyring/loopyring/ring"
	"pgregory.net/rapid"
)

// refRing is the reference model: a mutex and a slice of every entry ever
// claimed. Readers 0 and 2 read the publishers' output; reader 1 runs After
// reader 0. Readers 1 and 2 gate the publisher.
type refRing struct {
	mu        sync.Mutex
	capacity  int64
	start     int64
	entries   []refEntry // entries[s-start] for every claimed s
	pos       [3]int64   // released by each reader
	read      [3]int64   // end of the last range each reader got
	maxBatch  [3]int64
	closed    bool
	openSpans [][2]int64 // claimed, not committed, in claim order
}

type refEntry struct {
	value     int64
	committed bool
}

func (m *refRing) end() int64 { return m.start + int64(len(m.entries)) }

func (m *refRing) gate() int64 { return min(m.pos[1], m.pos[2]) }

func (m *refRing) canClaim(n int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.closed && m.end()+n-m.gate() <= m.capacity
}

func (m *refRing) claim(n int64) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	lo := m.end()
	for s := lo; s < lo+n; s++ {
		m.entries = append(m.entries, refEntry{value: s * 7})
	}
	m.openSpans = append(m.openSpans, [2]int64{lo, n})
	return lo
}

func (m *refRing) commit(i int) [2]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	sp := m.openSpans[i]
	m.openSpans = append(m.openSpans[:i], m.openSpans[i+1:]...)
	for s := sp[0]; s < sp[0]+sp[1]; s++ {
		m.entries[s-m.start].committed = true
	}
	return sp
}

// committedPrefix is the end of the contiguous committed sequences.
func (m *refRing) committedPrefix() int64 {
	s := m.start
	for s < m.end() && m.entries[s-m.start].committed {
		s++
	}
	return s
}

// available is the end of what reader i may read.
func (m *refRing) available(i int) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i == 1 {
		return m.pos[0]
	}
	return m.committedPrefix()
}

func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		multi := rapid.Bool().Draw(t, "multi")
		capacity := int64(1) << rapid.IntRange(1, 4).Draw(t, "log2cap")
		start := rapid.SampledFrom([]int64{0, 1<<62 - 5, 12345}).Draw(t, "start")
		m := &refRing{capacity: capacity, start: start}
		opts := []ring.Option{ring.WithStart(start)}
		if multi {
			opts = append(opts, ring.MultiPublisher())
		}
		if rapid.Bool().Draw(t, "fenced") { // on a multi-publisher ring: marks beside the entries
			opts = append(opts, ring.Fenced())
		}
		buf, err := ring.New[int64](int(capacity), opts...)
		if err != nil {
			t.Fatal(err)
		}
		var rd [3]*ring.Reader
		for i := range rd {
			m.maxBatch[i] = int64(rapid.IntRange(1, int(capacity)+1).Draw(t, "maxBatch"))
			m.pos[i], m.read[i] = start, start
			ropts := []ring.ReaderOption{ring.MaxBatch(int(m.maxBatch[i]))}
			if i == 1 {
				ropts = append(ropts, ring.After(rd[0]))
			}
			if rd[i], err = buf.NewReader(ropts...); err != nil {
				t.Fatal(err)
			}
			m.maxBatch[i] = min(m.maxBatch[i], capacity)
		}

		t.Repeat(map[string]func(*rapid.T){
			"claim": func(t *rapid.T) {
				n := int64(rapid.IntRange(1, int(capacity)).Draw(t, "n"))
				want := m.canClaim(n)
				var lo int64
				var ok bool
				if want && rapid.Bool().Draw(t, "blocking") {
					var err error
					lo, err = buf.Claim(context.Background(), int(n))
					ok = err == nil
				} else {
					lo, ok = buf.TryClaim(int(n))
				}
				if ok != want {
					t.Fatalf("claim(%d) ok=%v, model says %v", n, ok, want)
				}
				if !ok {
					return
				}
				if wantLo := m.claim(n); lo != wantLo {
					t.Fatalf("claim(%d) = %d, model says %d", n, lo, wantLo)
				}
				for s := lo; s < lo+n; s++ {
					*buf.At(s) = s * 7
				}
			},
			"claimClosed": func(t *rapid.T) {
				if !m.closed {
					t.Skip("open")
				}
				if _, err := buf.Claim(context.Background(), 1); !errors.Is(err, ring.ErrClosed) {
					t.Fatalf("Claim on a closed ring: %v", err)
				}
			},
			"commit": func(t *rapid.T) {
				if len(m.openSpans) == 0 {
					t.Skip("nothing claimed")
				}
				i := 0
				if multi {
					i = rapid.IntRange(0, len(m.openSpans)-1).Draw(t, "span")
				}
				sp := m.commit(i)
				buf.Commit(sp[0], int(sp[1]))
			},
			"tryRead": func(t *rapid.T) {
				i := rapid.IntRange(0, 2).Draw(t, "reader")
				avail := m.available(i)
				lo, hi, ok := rd[i].TryRead()
				if ok != (avail > m.pos[i]) {
					t.Fatalf("reader %d: TryRead ok=%v, model has [%d, %d)", i, ok, m.pos[i], avail)
				}
				if !ok {
					return
				}
				if lo != m.pos[i] || hi <= lo || hi > min(avail, lo+m.maxBatch[i]) {
					t.Fatalf("reader %d: TryRead = [%d, %d), model has [%d, %d) batch %d", i, lo, hi, m.pos[i], avail, m.maxBatch[i])
				}
				for s := lo; s < hi; s++ {
					if v := *buf.At(s); v != s*7 {
						t.Fatalf("reader %d: slot %d holds %d, want %d", i, s, v, s*7)
					}
				}
				m.read[i] = hi
			},
			"release": func(t *rapid.T) {
				i := rapid.IntRange(0, 2).Draw(t, "reader")
				if m.read[i] <= m.pos[i] {
					t.Skip("nothing read")
				}
				hi := m.pos[i] + int64(rapid.IntRange(1, int(m.read[i]-m.pos[i])).Draw(t, "k"))
				rd[i].Release(hi)
				m.mu.Lock()
				m.pos[i] = hi
				m.mu.Unlock()
			},
			"close": func(*rapid.T) {
				buf.Close()
				m.mu.Lock()
				m.closed = true
				m.mu.Unlock()
			},
			"": func(t *rapid.T) {
				m.mu.Lock()
				defer m.mu.Unlock()
				if buf.Closed() != m.closed {
					t.Fatalf("Closed() = %v, model %v", buf.Closed(), m.closed)
				}
				if want := int(m.committedPrefix() - m.gate()); buf.Len() != want {
					t.Fatalf("Len() = %d, model %d", buf.Len(), want)
				}
				for i, r := range rd {
					if ring.SequenceOf(r) != m.pos[i] {
						t.Fatalf("reader %d: Sequence() = %d, model %d", i, ring.SequenceOf(r), m.pos[i])
					}
					if want := m.closed && m.pos[i] >= m.end(); r.Drained() != want {
						t.Fatalf("reader %d: Drained() = %v, model %v", i, r.Drained(), want)
					}
				}
			},
		})
		// Leave nothing half done: a claimed range must be committed.
		for len(m.openSpans) > 0 {
			sp := m.commit(0)
			buf.Commit(sp[0], int(sp[1]))
		}
	})
}
