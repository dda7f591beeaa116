package ring_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

func TestLingerNegative(t *testing.T) {
	buf := mustNew[int](t, 8)
	_, err := buf.NewReader(ring.Linger(-time.Nanosecond))
	if err == nil || !strings.Contains(err.Error(), "linger -1ns is negative") {
		t.Fatalf("NewReader(Linger(-1ns)) = %v, want an error naming -1ns", err)
	}
}

// committed returns a ring of the given capacity with entries 0 to n-1 committed,
// one claim each, and a reader made with opts before the first of them.
func committed(t *testing.T, capacity, n int, opts ...ring.ReaderOption) (*ring.Buffer[int], *ring.Reader) {
	t.Helper()
	buf := mustNew[int](t, capacity)
	r := mustReader(t, buf, opts...)
	commitN(t, buf, 0, n)
	return buf, r
}

// waitWhileCommitting commits entry 0, calls r.Wait, and commits entries 1 to 20
// 20 ms later from another goroutine, which is done when it returns.
func waitWhileCommitting(t *testing.T, r *ring.Reader, buf *ring.Buffer[int]) (lo, hi int64, err error) {
	t.Helper()
	commitN(t, buf, 0, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(20 * time.Millisecond)
		commitN(t, buf, 1, 20)
	}()
	lo, hi, err = r.Wait(context.Background())
	<-done
	return lo, hi, err
}

// A short range waits for what the publisher commits during the pause.
func TestLingerGathers(t *testing.T) {
	buf := mustNew[int](t, 64)
	r := mustReader(t, buf, ring.Linger(time.Second))
	// Whether Wait is already lingering on entry 0 or has not started yet when the
	// other 20 arrive, it must return all 21 entries at once: its pause of a second
	// outlasts the 20 ms by far.
	lo, hi, err := waitWhileCommitting(t, r, buf)
	if err != nil || lo != 0 || hi != 21 {
		t.Fatalf("Wait = [%d, %d), %v; want [0, 21), nil", lo, hi, err)
	}
	for s := lo; s < hi; s++ {
		if got := *buf.At(s); got != int(s) {
			t.Fatalf("slot %d = %d", s, got)
		}
	}
	r.Release(hi)
}

// The pause happens once, then Wait returns what is there, however short.
func TestLingerPausesOnce(t *testing.T) {
	const d = 30 * time.Millisecond
	buf, r := committed(t, 64, 1, ring.Linger(d))
	start := time.Now()
	lo, hi, err := r.Wait(context.Background())
	if err != nil || lo != 0 || hi != 1 {
		t.Fatalf("Wait = [%d, %d), %v; want [0, 1), nil", lo, hi, err)
	}
	if el := time.Since(start); el < d {
		t.Fatalf("Wait returned a short range after %v, before its linger of %v", el, d)
	}
	r.Release(hi)

	// Closing ends nothing early: the last short range lingers, then Wait
	// reports the end.
	commitN(t, buf, 1, 1)
	buf.Close()
	start = time.Now()
	if lo, hi, err = r.Wait(context.Background()); err != nil || lo != 1 || hi != 2 {
		t.Fatalf("Wait = [%d, %d), %v; want [1, 2), nil", lo, hi, err)
	}
	if el := time.Since(start); el < d {
		t.Fatalf("Wait returned the last short range after %v, before its linger of %v", el, d)
	}
	r.Release(hi)
	if _, _, err = r.Wait(context.Background()); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("Wait after drain = %v, want ErrClosed", err)
	}
}

// No pause where it cannot help: a long enough range, MaxBatch below the
// threshold, Linger(0), and TryRead.
func TestLingerSkipped(t *testing.T) {
	// A pause of d where none belongs fails the bound below, which is
	// generous enough for any machine.
	const d = 20 * time.Second
	quick := func(t *testing.T, start time.Time) {
		t.Helper()
		if el := time.Since(start); el >= d/2 {
			t.Fatalf("took %v: lingered", el)
		}
	}
	cases := []struct {
		name     string
		capacity int
		opts     []ring.ReaderOption
		commit   int
		want     int64 // hi of the range Wait returns
	}{
		{"full range", 64, []ring.ReaderOption{ring.Linger(d)}, 32, 32},
		{"max batch 1", 64, []ring.ReaderOption{ring.Linger(d), ring.MaxBatch(1)}, 1, 1},
		{"linger 0", 64, []ring.ReaderOption{ring.Linger(0)}, 1, 1},
		// Capacity 2: the threshold is a half ring, one entry, so a single
		// committed entry is never short.
		{"tiny ring", 2, []ring.ReaderOption{ring.Linger(d)}, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, r := committed(t, c.capacity, c.commit, c.opts...)
			start := time.Now()
			lo, hi, err := r.Wait(context.Background())
			if err != nil || lo != 0 || hi != c.want {
				t.Fatalf("Wait = [%d, %d), %v; want [0, %d)", lo, hi, err, c.want)
			}
			quick(t, start)
		})
	}
	t.Run("cached range", func(t *testing.T) {
		// A range left over from the last look at the barrier is returned as
		// it is, however short: only a fresh look that comes back short pauses.
		_, r := committed(t, 64, 32, ring.Linger(d))
		start := time.Now()
		if lo, hi, err := r.Wait(context.Background()); err != nil || lo != 0 || hi != 32 {
			t.Fatalf("Wait = [%d, %d), %v; want [0, 32)", lo, hi, err)
		}
		r.Release(30)
		if lo, hi, err := r.Wait(context.Background()); err != nil || lo != 30 || hi != 32 {
			t.Fatalf("Wait = [%d, %d), %v; want [30, 32)", lo, hi, err)
		}
		quick(t, start)
	})
	t.Run("TryRead", func(t *testing.T) {
		_, r := committed(t, 64, 1, ring.Linger(d))
		start := time.Now()
		if lo, hi, ok := r.TryRead(); !ok || lo != 0 || hi != 1 {
			t.Fatalf("TryRead = [%d, %d), %v", lo, hi, ok)
		}
		quick(t, start)
	})
}

// A done context cuts the pause short; the entries found are still returned.
func TestLingerEndsWithContext(t *testing.T) {
	_, r := committed(t, 64, 1, ring.Linger(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	lo, hi, err := r.Wait(ctx)
	if err != nil || lo != 0 || hi != 1 {
		t.Fatalf("Wait = [%d, %d), %v; want [0, 1), nil", lo, hi, err)
	}
	// An hour of lingering would fail this; a done context ends it at once.
	if el := time.Since(start); el > time.Minute {
		t.Fatalf("Wait took %v after its context ended", el)
	}
	r.Release(hi)
	if _, _, err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on a done context = %v, want DeadlineExceeded", err)
	}
}

func TestLingerDefault(t *testing.T) {
	buf := mustNew[int](t, 8)
	cases := []struct {
		name  string
		procs int
		opts  []ring.ReaderOption
		want  time.Duration
	}{
		{"default", 2, nil, 2 * time.Microsecond},
		{"one processor", 1, nil, 0},
		{"set", 1, []ring.ReaderOption{ring.Linger(5 * time.Millisecond)}, 5 * time.Millisecond},
		{"off", 2, []ring.ReaderOption{ring.Linger(0)}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if runtime.NumCPU() < 2 && c.procs > 1 {
				t.Skip("one CPU: the default is 0 whatever GOMAXPROCS says")
			}
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.procs))
			r := mustReader(t, buf, c.opts...)
			if got := ring.LingerOf(r); got != c.want {
				t.Fatalf("linger %v, want %v", got, c.want)
			}
		})
	}
}

// The threshold is 32 entries, or MaxBatch or half the ring if lower. A case that
// must linger gets a short pause and must take at least that long; a case that must
// not gets a pause of 20 s and must return well before it.
func TestLingerThreshold(t *testing.T) {
	cases := []struct {
		name            string
		capacity, ready int
		opts            []ring.ReaderOption
		lingers         bool
	}{
		{"20 of 32", 64, 20, nil, true},
		{"32 of 32", 64, 32, nil, false},
		{"5 of MaxBatch 8", 64, 5, []ring.ReaderOption{ring.MaxBatch(8)}, true},
		{"8 of MaxBatch 8", 64, 8, []ring.ReaderOption{ring.MaxBatch(8)}, false},
		{"7 of half a 16-slot ring", 16, 7, nil, true},
		{"8 of half a 16-slot ring", 16, 8, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := 20 * time.Second
			if c.lingers {
				d = 30 * time.Millisecond
			}
			_, r := committed(t, c.capacity, c.ready, append(c.opts, ring.Linger(d))...)
			start := time.Now()
			lo, hi, err := r.Wait(context.Background())
			el := time.Since(start)
			if err != nil || lo != 0 || hi != int64(c.ready) {
				t.Fatalf("Wait = [%d, %d), %v; want [0, %d)", lo, hi, err, c.ready)
			}
			if c.lingers && el < d {
				t.Fatalf("returned after %v without lingering %v", el, d)
			}
			if !c.lingers && el >= d/2 {
				t.Fatalf("returned after %v: lingered", el)
			}
		})
	}
}

// What a linger gathers beyond MaxBatch stays for the next Wait.
func TestLingerRespectsMaxBatch(t *testing.T) {
	buf := mustNew[int](t, 64)
	r := mustReader(t, buf, ring.Linger(time.Second), ring.MaxBatch(5))
	lo, hi, err := waitWhileCommitting(t, r, buf)
	if err != nil || lo != 0 || hi != 5 {
		t.Fatalf("Wait = [%d, %d), %v; want [0, 5)", lo, hi, err)
	}
	r.Release(hi)
	if lo, hi, err = r.Wait(context.Background()); err != nil || lo != 5 || hi != 10 {
		t.Fatalf("Wait = [%d, %d), %v; want [5, 10)", lo, hi, err)
	}
}

// Lingering readers, root and downstream phase, under one and several publishers
// with small rings and small MaxBatch: every entry arrives once, in order, in ranges
// no longer than MaxBatch.
func TestLingerStress(t *testing.T) {
	per := scale(3000, 10)
	for _, m := range publisherModes() {
		for _, capacity := range []int{2, 4, 64} {
			for _, mb := range []int{1, 5, 64} {
				buf := mustNew[int64](t, capacity, m.opts...)
				up := mustReader(t, buf, ring.Linger(20*time.Microsecond), ring.MaxBatch(mb))
				down := mustReader(t, buf, ring.After(up), ring.Linger(20*time.Microsecond), ring.MaxBatch(mb))
				pubs := 1
				if m.multi {
					pubs = 3
				}
				claimSize := func(p, i int) int { return 1 + (i+p)%min(3, capacity) }
				total := int64(0)
				for p := range pubs {
					for i := range per {
						total += int64(claimSize(p, i))
					}
				}
				var pw, rw sync.WaitGroup
				for p := range pubs {
					pw.Go(func() {
						for i := range per {
							n := claimSize(p, i)
							lo, err := buf.Claim(context.Background(), n)
							if err != nil {
								t.Error(err)
								return
							}
							for s := lo; s < lo+int64(n); s++ {
								*buf.At(s) = s
							}
							buf.Commit(lo, n)
						}
					})
				}
				for _, r := range []*ring.Reader{up, down} {
					rw.Go(func() {
						want := int64(0)
						for {
							lo, hi, err := r.Wait(context.Background())
							if err != nil {
								if want != total {
									t.Errorf("%s cap %d max batch %d: saw %d of %d (%v)", m.name, capacity, mb, want, total, err)
								}
								return
							}
							if lo != want || hi <= lo || hi-lo > int64(mb) {
								// Report, and keep draining so the publishers do not block.
								t.Errorf("%s cap %d max batch %d: range [%d, %d), want it to start at %d", m.name, capacity, mb, lo, hi, want)
							}
							for s := lo; s < hi; s++ {
								if *buf.At(s) != s {
									t.Errorf("slot %d = %d", s, *buf.At(s))
								}
							}
							want = hi
							r.Release(hi)
						}
					})
				}
				pw.Wait()
				buf.Close() // the readers drain what is left, then see ErrClosed
				rw.Wait()
			}
		}
	}
}

// pacedClock is the clock of a reader's pauses, and a publisher that keeps a
// steady pace by it: every reading moves the time on by tick and commits the
// entries that rate (entries per tick) makes due, as long as the ring has room
// and fewer than limit entries (if limit > 0) have been committed. It runs on
// the reader's goroutine, so what a Wait sees depends on nothing but the
// readings, and the time a Wait spent lingering is exact.
type pacedClock struct {
	buf   *ring.Buffer[int]
	now   time.Duration // the time the clock reads
	tick  time.Duration
	rate  float64
	limit int
	owed  float64
	next  int         // the next entry's value and sequence
	at    func(int64) // called with every reading's number, from 1; may be nil
	reads int64
}

func (c *pacedClock) read() time.Duration {
	c.reads++
	if c.at != nil {
		c.at(c.reads)
	}
	c.now += c.tick
	for c.owed += c.rate; c.owed >= 1 && (c.limit == 0 || c.next < c.limit); c.owed-- {
		lo, ok := c.buf.TryClaim(1)
		if !ok {
			break // full: the reader has to release first
		}
		*c.buf.At(lo) = c.next
		c.buf.Commit(lo, 1)
		c.next++
	}
	return c.now
}

// A pause that brings a full batch (32 entries or more) makes Wait pause again,
// for as long as each pause brings a full batch, up to a quarter of the ring (or
// MaxBatch), and never more than LingerSteps pauses; a pause that brings less
// ends the lingering. The publisher runs by the reader's own clock (pacedClock),
// so each case is exact: a pause of 10µs reads the clock 11 times and lasts
// 11µs of that clock.
func TestLingerFollowsThePace(t *testing.T) {
	const (
		d     = 10 * time.Microsecond
		tick  = time.Microsecond
		pause = d + tick
	)
	cases := []struct {
		name     string
		capacity int
		opts     []ring.ReaderOption
		rate     float64 // entries per tick
		limit    int     // entries committed in all; 0: no limit
		pauses   int64   // how many pauses Wait takes
		hi       int64   // the end of the range it returns
	}{
		// 110 entries a pause: on to a quarter of 4096 slots, after 10 pauses.
		{name: "fast publisher, deep ring", capacity: 4096, rate: 10, pauses: 10, hi: 1101},
		// A quarter of 2^16 slots is out of reach at 44 entries a pause: the
		// bound ends it.
		{name: "bounded", capacity: 1 << 16, rate: 4, pauses: ring.LingerSteps, hi: 1 + ring.LingerSteps*44},
		// One entry a pause: a short range after one pause, as before.
		{name: "slow publisher", capacity: 1 << 16, rate: 0.1, pauses: 1, hi: 2},
		// 22 entries a pause, under the 32 of a full batch.
		{name: "just too slow", capacity: 1 << 16, rate: 2, pauses: 1, hi: 23},
		// The publisher stops after 300 entries: the fourth pause brings none.
		{name: "publisher stops", capacity: 4096, rate: 10, limit: 300, pauses: 4, hi: 300},
		{name: "MaxBatch", capacity: 4096, opts: []ring.ReaderOption{ring.MaxBatch(200)}, rate: 10, pauses: 2, hi: 200},
		// A quarter of 128 slots is no more than a full batch: one pause.
		{name: "small ring", capacity: 128, rate: 10, pauses: 1, hi: 111},
		{name: "linger 0", capacity: 4096, opts: []ring.ReaderOption{ring.Linger(0)}, rate: 10, pauses: 0, hi: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			buf := mustNew[int](t, c.capacity)
			r := mustReader(t, buf, append([]ring.ReaderOption{ring.Linger(d)}, c.opts...)...)
			commitN(t, buf, 0, 1)
			clock := &pacedClock{buf: buf, tick: tick, rate: c.rate, limit: c.limit, next: 1}
			ring.SetClock(r, clock.read)
			lo, hi, err := r.Wait(context.Background())
			if err != nil || lo != 0 || hi != c.hi {
				t.Fatalf("Wait = [%d, %d), %v; want [0, %d)", lo, hi, err, c.hi)
			}
			if spent := clock.now; spent != time.Duration(c.pauses)*pause {
				t.Fatalf("Wait lingered %v, %.1f pauses; want %d", spent, float64(spent)/float64(pause), c.pauses)
			}
			for s := lo; s < hi; s++ {
				if got := *buf.At(s); got != int(s) {
					t.Fatalf("slot %d = %d", s, got)
				}
			}
		})
	}
}

// A done context ends the lingering within the pause it falls in, with the
// range found by then.
func TestLingerPacedEndsWithContext(t *testing.T) {
	const d = 10 * time.Microsecond
	buf := mustNew[int](t, 1<<16)
	r := mustReader(t, buf, ring.Linger(d))
	commitN(t, buf, 0, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// 110 entries a pause would keep it lingering 32 pauses; the context ends
	// in the middle of the third (readings 23 to 33).
	clock := &pacedClock{buf: buf, tick: time.Microsecond, rate: 10, next: 1}
	clock.at = func(n int64) {
		if n == 27 {
			cancel()
		}
	}
	ring.SetClock(r, clock.read)
	lo, hi, err := r.Wait(ctx)
	if err != nil || lo != 0 || hi != 271 {
		t.Fatalf("Wait = [%d, %d), %v; want [0, 271), nil", lo, hi, err)
	}
	if clock.reads != 27 {
		t.Fatalf("the clock was read %d times; want 27, none after the context ended", clock.reads)
	}
}
