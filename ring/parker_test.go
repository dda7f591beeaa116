package ring_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// stressIters returns n, divided by 20 under -short and by 10 more under the
// race detector.
func stressIters(n int) int {
	n = scale(n, 20)
	if raceEnabled {
		n = max(1, n/10)
	}
	return n
}

// parkProbe is a context that counts the calls of its Done method. Parker.Wait
// calls Done only in the select that parks it, after it has announced its
// sleep and found its condition still false, so the count tells a test that a
// goroutine waiting inside a Reader, whose condition it cannot count, has gone
// to sleep: no hook into the Parker is needed.
type parkProbe struct {
	context.Context
	sleeps atomic.Int64
}

func (c *parkProbe) Done() <-chan struct{} {
	c.sleeps.Add(1)
	return c.Context.Done()
}

// waitSleeps waits until the probe has seen n sleeps.
func waitSleeps(t *testing.T, c *parkProbe, n int64) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for c.sleeps.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the goroutine went to sleep %d times, want %d", c.sleeps.Load(), n)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// sleeper is one Wait on a Parker, in a goroutine of its own, for a condition
// that holds once flag is set. Its context ends with the test, so that a
// goroutine left asleep by a failure does not outlive it.
type sleeper struct {
	p     *ring.Parker
	calls atomic.Int64 // calls of ready
	flag  atomic.Bool
	done  chan struct{} // closed when Wait has returned err
	err   error
}

func startSleeper(t *testing.T, p *ring.Parker) *sleeper {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	t.Cleanup(cancel)
	s := &sleeper{p: p, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.err = p.Wait(ctx, func() bool {
			s.calls.Add(1)
			return s.flag.Load()
		})
	}()
	return s
}

// waitCalls waits until the sleeper has called ready n times, and fails if its
// Wait returns first.
func (s *sleeper) waitCalls(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for s.calls.Load() < n {
		select {
		case <-s.done:
			t.Fatalf("Wait returned %v after %d calls of ready, with its condition false", s.err, s.calls.Load())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("Wait called ready %d times, want %d", s.calls.Load(), n)
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// checkAsleep checks that the sleeper goes to sleep and stays asleep for d:
// it calls ready twice (before and after announcing its sleep) and not again,
// so nothing ended the sleep, not even spuriously. A token left in the
// Parker's channel by an earlier Wake would end it at once, and ready would be
// called twice more.
func (s *sleeper) checkAsleep(t *testing.T, d time.Duration) {
	t.Helper()
	s.waitCalls(t, 2)
	time.Sleep(d)
	select {
	case <-s.done:
		t.Fatalf("Wait returned %v with its condition false and no Wake", s.err)
	default:
	}
	if calls := s.calls.Load(); calls != 2 {
		t.Fatalf("with its condition false and no Wake, Wait called ready %d times, want 2 (before and after announcing its sleep): a stale token ended the sleep", calls)
	}
}

// wake makes the condition true, wakes the Parker and checks that the Wait
// returns nil.
func (s *sleeper) wake(t *testing.T) {
	t.Helper()
	s.flag.Store(true)
	s.p.Wake()
	select {
	case <-s.done:
		if s.err != nil {
			t.Fatalf("Wait = %v after its condition held and a Wake, want nil", s.err)
		}
	case <-time.After(hang):
		t.Fatal("Wait slept through a Wake with its condition true")
	}
}

// TestParkerPingPong passes a counter back and forth between two goroutines,
// each of which waits on its own Parker for the other's move, then moves and
// wakes the other. A wake lost anywhere leaves both asleep, and the context's
// deadline turns that into a failure, not a hang. The game ends after its
// moves or after a second, whichever comes first, so that a loaded machine
// plays fewer moves rather than for longer. At the end both Parkers must sleep
// as new: no token left in either.
//
// After each move a player keeps its processor busy for a few microseconds,
// until the other has begun to run, so that the other, readied on this
// processor, is stolen by another one; the player then goes to sleep just as
// the other makes its move, which is the race a lost wake needs. Without that
// both goroutines share one processor, each Wake hands it over, and no sleep
// ever races a store: a Wait that did not re-check its condition after
// announcing its sleep passed 100k moves that way.
func TestParkerPingPong(t *testing.T) {
	const over = -1 // the turn once either player has ended the game
	moves := int64(stressIters(100_000))
	parallel := runtime.GOMAXPROCS(0) > 1
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	end := time.Now().Add(time.Second)
	var turn atomic.Int64 // the next move; a moves on even turns, b on odd ones
	var polls [2]atomic.Int64
	var played atomic.Int64
	pa, pb := ring.NewParker(), ring.NewParker()
	play := func(me, other *ring.Parker, first int64) error {
		mine, theirs := &polls[first], &polls[1-first]
		for i := first; ; i += 2 {
			ready := func() bool {
				mine.Add(1)
				n := turn.Load()
				return n == i || n == over
			}
			if err := me.Wait(ctx, ready); err != nil {
				return fmt.Errorf("waiting for move %d: %w (turn is at %d: a wake was lost)", i, err, turn.Load())
			}
			if turn.Load() == over {
				return nil
			}
			seen := theirs.Load()
			if i+1 >= moves || i%1024 == 0 && time.Now().After(end) {
				played.Store(i)
				turn.Store(over)
				other.Wake()
				return nil
			}
			turn.Store(i + 1)
			other.Wake()
			if parallel {
				spinUntil(3*time.Microsecond, func() bool { return theirs.Load() != seen })
			}
		}
	}
	errc := make(chan error, 2)
	go func() { errc <- play(pa, pb, 0) }()
	go func() { errc <- play(pb, pa, 1) }()
	for range 2 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d moves of %d, %d calls of ready", played.Load(), moves, polls[0].Load()+polls[1].Load())
	for _, p := range []*ring.Parker{pa, pb} {
		s := startSleeper(t, p)
		s.checkAsleep(t, time.Millisecond)
		s.wake(t)
	}
}

// spinUntil polls cond for at most d.
func spinUntil(d time.Duration, cond func() bool) {
	start := time.Now()
	for i := 0; !cond(); i++ {
		if i%16 == 0 && time.Since(start) > d {
			return
		}
	}
}

// TestParkerWakeInEachWindow lands a Wake, from another goroutine, at each
// point of a Wait on its way to sleep, by having the condition start the waker
// and wait for it:
//
//   - after the check before the sleep is announced: the Wake finds nobody
//     asleep, and only the check after the announcement can see the store;
//   - after that second check found nothing: the Wake's token must wait in
//     the channel for the select;
//   - inside the second check, before its load: the check finds the
//     condition true while the waker owns the wake, and Wait must take the
//     waker's token with it.
//
// In each, Wait must return, and once the waker is done the next Wait must
// sleep as new.
func TestParkerWakeInEachWindow(t *testing.T) {
	tests := []struct {
		name       string
		call       int64 // the call of ready during which the waker runs
		beforeLoad bool  // whether it runs before ready loads the condition, or after
	}{
		{"before the announcement", 1, false},
		{"before the select", 2, false},
		{"during the re-check", 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ring.NewParker()
			rounds := scale(20, 4)
			for i := range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), hang)
				defer cancel()
				var flag atomic.Bool
				var calls int64
				done := make(chan struct{})
				startWaker := func() {
					go func() {
						flag.Store(true)
						p.Wake()
						close(done)
					}()
				}
				err := p.Wait(ctx, func() bool {
					calls++
					if calls != tt.call {
						return flag.Load()
					}
					if tt.beforeLoad {
						startWaker()
						<-done
						return flag.Load()
					}
					v := flag.Load()
					startWaker()
					<-done
					return v
				})
				if err != nil || ctx.Err() != nil {
					t.Fatalf("round %d: Wait = %v after %d calls of ready, at its context's deadline: the Wake was lost", i, err, calls)
				}
				select {
				case <-done:
				case <-time.After(hang):
					t.Fatalf("round %d: Wake blocked", i)
				}
				checkNoStaleToken(t, p, i == rounds-1)
			}
		})
	}
}

// TestParkerManyWakers races many Wakes against one sleeper.
func TestParkerManyWakers(t *testing.T) {
	const wakers = 8
	t.Run("steps", func(t *testing.T) {
		// One goroutine waits for an incrementing target, one Wait per step,
		// while 8 goroutines call Wake in a loop. The step's owner (the waker
		// numbered step%8) stores it and wakes; the others wake while it is
		// not yet stored, so Wakes race each other and the sleep on every
		// step. The waiter must finish, no Wake may block, and the Parker
		// must then sleep as new.
		steps := int64(stressIters(20_000))
		ctx, cancel := context.WithTimeout(context.Background(), hang)
		defer cancel()
		p := ring.NewParker()
		var want, got atomic.Int64 // the step the waiter waits for; the last step stored
		var stop atomic.Bool
		var wg sync.WaitGroup
		for id := range int64(wakers) {
			wg.Go(func() {
				for !stop.Load() {
					k := want.Load()
					switch {
					case got.Load() >= k:
					case k%wakers == id:
						got.Store(k)
						p.Wake()
					default:
						p.Wake()
					}
					runtime.Gosched()
				}
			})
		}
		var err error
		for k := int64(1); k <= steps && err == nil; k++ {
			want.Store(k)
			if err = p.Wait(ctx, func() bool { return got.Load() >= k }); err != nil {
				err = fmt.Errorf("waiting for step %d of %d: %w (the last step stored is %d)", k, steps, err, got.Load())
			}
		}
		stop.Store(true)
		waitWakers(t, &wg)
		if err != nil {
			t.Fatal(err)
		}
		s := startSleeper(t, p)
		s.checkAsleep(t, time.Millisecond)
		s.wake(t)
	})
	t.Run("storm", func(t *testing.T) {
		// A goroutine sleeps; 8 wakers, released at once, each make its
		// condition true and wake it. Exactly one Wake may send it a token:
		// a second would stay in the channel after the Wait returned and end
		// the next sleep at once, and a third would block its waker for good.
		rounds := stressIters(100)
		p := ring.NewParker()
		for i := range rounds {
			s := startSleeper(t, p)
			s.waitCalls(t, 2)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range wakers {
				wg.Go(func() {
					<-start
					s.flag.Store(true)
					p.Wake()
				})
			}
			close(start)
			waitWakers(t, &wg)
			select {
			case <-s.done:
				if s.err != nil {
					t.Fatalf("round %d: Wait = %v", i, s.err)
				}
			case <-time.After(hang):
				t.Fatalf("round %d: 8 Wakes after the condition held did not wake the sleeper", i)
			}
			checkNoStaleToken(t, p, i == rounds-1)
		}
	})
}

// waitWakers waits for the goroutines of wg, and fails if one of them is stuck.
func waitWakers(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(hang):
		t.Fatal("a waker is stuck in Wake")
	}
}

// TestParkerContext checks Wait's cancellation: it returns ctx.Err() whether
// the context is done before Wait or while it sleeps, a condition already true
// wins over a done context, and a canceled Wait leaves the Parker as it found
// it: the next Wait sleeps until a real Wake, with no token left behind by a
// Wake that raced with the cancellation.
func TestParkerContext(t *testing.T) {
	never := func() bool { return false }
	t.Run("done before", func(t *testing.T) {
		p := ring.NewParker()
		canceled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.Wait(canceled, never); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait on a canceled context = %v, want context.Canceled", err)
		}
		expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel2()
		if err := p.Wait(expired, never); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait on an expired context = %v, want context.DeadlineExceeded", err)
		}
		if err := p.Wait(canceled, func() bool { return true }); err != nil {
			t.Fatalf("Wait with its condition true on a canceled context = %v, want nil", err)
		}
		s := startSleeper(t, p)
		s.checkAsleep(t, 5*time.Millisecond)
		s.wake(t)
	})
	t.Run("done while asleep", func(t *testing.T) {
		p := ring.NewParker()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var calls atomic.Int64
		errc := make(chan error, 1)
		go func() { errc <- p.Wait(ctx, func() bool { calls.Add(1); return false }) }()
		deadline := time.Now().Add(hang)
		for calls.Load() < 2 { // asleep, or about to be
			if time.Now().After(deadline) {
				t.Fatalf("Wait called ready %d times, want 2 (before and after announcing its sleep)", calls.Load())
			}
			time.Sleep(20 * time.Microsecond)
		}
		cancel()
		wantErr(t, errc, context.Canceled, "Wait canceled while asleep")
		s := startSleeper(t, p)
		s.checkAsleep(t, 20*time.Millisecond)
		s.wake(t)
	})
	t.Run("wake racing cancel", func(t *testing.T) {
		// The condition cancels the context and wakes the Parker when Wait
		// re-checks it after announcing the sleep, so that both the token and
		// the done context are ready when Wait selects. It takes either at
		// random and must do the other's part too: drain the token, or see the
		// context.
		p := ring.NewParker()
		watchdog, stop := context.WithTimeout(context.Background(), hang)
		defer stop()
		rounds := scale(64, 4)
		for i := range rounds {
			ctx, cancel := context.WithCancel(watchdog)
			calls := 0
			err := p.Wait(ctx, func() bool {
				if calls++; calls == 2 {
					cancel()
					p.Wake()
				}
				return false
			})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("round %d: Wait = %v, want context.Canceled", i, err)
			}
			s := startSleeper(t, p)
			d := time.Millisecond
			if i == rounds-1 {
				d = 20 * time.Millisecond
			}
			s.checkAsleep(t, d)
			s.wake(t)
		}
	})
	t.Run("wake without the condition", func(t *testing.T) {
		// A Wake ends the sleep, not the Wait: with its condition false, Wait
		// sleeps again.
		p := ring.NewParker()
		s := startSleeper(t, p)
		s.waitCalls(t, 2)
		p.Wake()
		s.waitCalls(t, 4) // woken, checked, announced, re-checked
		time.Sleep(5 * time.Millisecond)
		select {
		case <-s.done:
			t.Fatalf("Wait returned %v after a Wake with its condition false", s.err)
		default:
		}
		s.wake(t)
	})
}

// TestParkerWakeAwake checks that Wake on a Parker nobody waits on returns at
// once and leaves nothing behind: the next Wait still sleeps until a Wake.
func TestParkerWakeAwake(t *testing.T) {
	p := ring.NewParker()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			p.Wake()
		}
	}()
	select {
	case <-done:
	case <-time.After(hang):
		t.Fatal("Wake blocked on a Parker nobody waits on")
	}
	s := startSleeper(t, p)
	s.checkAsleep(t, 20*time.Millisecond)
	s.wake(t)
}

// TestParkerZeroAllocs checks that a Parker allocates nothing: a Wake with
// nobody asleep, a Wait whose condition holds at once or once the sleep is
// announced, and, once both goroutines have run, a whole park and wake.
func TestParkerZeroAllocs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	t.Run("wake awake", func(t *testing.T) {
		p := ring.NewParker()
		if n := testing.AllocsPerRun(1000, p.Wake); n != 0 {
			t.Fatalf("%v allocs per Wake with nobody asleep, want 0", n)
		}
	})
	waits := []struct {
		name  string
		ready func() func() bool
	}{
		{"ready", func() func() bool { return func() bool { return true } }},
		{"ready once announced", func() func() bool {
			calls := 0
			return func() bool { calls++; return calls%2 == 0 } // false, then true after the announcement
		}},
	}
	for _, w := range waits {
		t.Run(w.name, func(t *testing.T) {
			p := ring.NewParker()
			ready := w.ready()
			var err error
			n := testing.AllocsPerRun(1000, func() {
				if e := p.Wait(ctx, ready); e != nil && err == nil {
					err = e
				}
			})
			if err != nil {
				t.Fatalf("Wait = %v", err)
			}
			if n != 0 {
				t.Fatalf("%v allocs per Wait, want 0", n)
			}
		})
	}
	t.Run("park and wake", func(t *testing.T) {
		// The test goroutine asks a helper for an ack and sleeps until it
		// comes. AllocsPerRun runs with GOMAXPROCS 1, so the asker parks on
		// every round: the helper runs only once it does.
		asker, helper := ring.NewParker(), ring.NewParker()
		probe := &parkProbe{Context: ctx}
		var req, ack atomic.Int64
		var stop atomic.Bool
		acked := func() bool { return ack.Load() >= req.Load() }
		asked := func() bool { return req.Load() > ack.Load() || stop.Load() }
		helperDone := make(chan error, 1)
		go func() {
			for {
				if err := helper.Wait(ctx, asked); err != nil {
					helperDone <- err
					return
				}
				if stop.Load() {
					helperDone <- nil
					return
				}
				ack.Store(req.Load())
				asker.Wake()
			}
		}()
		var lost error // a wake lost in one round fails every later one at once
		round := func() {
			req.Add(1)
			helper.Wake()
			if err := asker.Wait(probe, acked); err != nil && lost == nil {
				lost = err
			}
		}
		round() // the first park of each goroutine may allocate its runtime state
		const runs = 500
		start := probe.sleeps.Load()
		n := testing.AllocsPerRun(runs, round)
		parks := probe.sleeps.Load() - start
		stop.Store(true)
		helper.Wake()
		if err := <-helperDone; err != nil {
			t.Fatalf("helper: %v", err)
		}
		if lost != nil {
			t.Fatalf("asker: %v", lost)
		}
		if n != 0 {
			t.Fatalf("%v allocs per park and wake, want 0", n)
		}
		if parks == 0 {
			t.Fatal("the asker never parked: the test measured nothing")
		}
		t.Logf("%d parks in %d rounds", parks, runs+1) // AllocsPerRun adds a warm-up run
	})
}

// parkerWaiters are the ways a reader sleeps on a Parker: on the Parker
// itself, and behind phases, as a shared flow stage does.
func parkerWaiters(phases ring.WaitPhases) map[string]func(*ring.Parker) ring.Waiter {
	return map[string]func(*ring.Parker) ring.Waiter{
		"parker":        func(p *ring.Parker) ring.Waiter { return p },
		"phases+parker": func(p *ring.Parker) ring.Waiter { return phases.Before(p) },
	}
}

// TestParkerReaderGetsEveryCommit runs a ring whose only reader sleeps on a
// Parker. The publisher commits one entry at a time and waits for the reader
// to release it before the next, so a wake lost on any commit leaves the
// reader asleep with no later commit or Close to hide it. Rings commit to a
// Parker with fenced stores (it does not settle), which is what keeps that
// wake from being lost where rings could commit with light ones.
func TestParkerReaderGetsEveryCommit(t *testing.T) {
	rounds := stressIters(4000)
	for _, m := range publisherModes() {
		for name, mk := range parkerWaiters(ring.WaitPhases{Yield: 2}) {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				b := mustNew[int](t, 8, m.opts...)
				defer b.Close() // lets the reader end if the test fails early
				r := mustReader(t, b, ring.ReaderWaiter(mk(ring.NewParker())), ring.Linger(0))
				ctx, cancel := context.WithTimeout(context.Background(), hang)
				defer cancel()
				readErr := commitEach(t, ctx, b, []*ring.Reader{r}, rounds, 4)
				b.Close()
				if err := <-readErr; !errors.Is(err, ring.ErrClosed) {
					t.Fatalf("reader ended with %v, want ErrClosed", err)
				}
			})
		}
	}
}

// TestParkerReaderManyPublishers has 4 goroutines publish to a multi-publisher
// ring at once, one entry per claim, while its only reader sleeps on a Parker:
// the reader must get every entry, each publisher's in its order. The test
// waits for the reader to have released every entry before it closes the
// ring, so that a wake lost on the last commits is not hidden by Close's.
func TestParkerReaderManyPublishers(t *testing.T) {
	const publishers = 4
	per := stressIters(20_000)
	type entry struct{ pub, i int }
	for _, m := range publisherModes() {
		if !m.multi {
			continue
		}
		for name, mk := range parkerWaiters(ring.WaitPhases{Yield: 2}) {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				b := mustNew[entry](t, 16, m.opts...)
				defer b.Close()
				r := mustReader(t, b, ring.ReaderWaiter(mk(ring.NewParker())), ring.Linger(0))
				ctx, cancel := context.WithTimeout(context.Background(), hang)
				defer cancel()
				var wg sync.WaitGroup
				for pub := range publishers {
					wg.Go(func() {
						for i := range per {
							lo, err := b.Claim(ctx, 1)
							if err != nil {
								t.Errorf("publisher %d, entry %d: %v", pub, i, err)
								return
							}
							*b.At(lo) = entry{pub, i}
							b.Commit(lo, 1)
						}
					})
				}
				var released atomic.Int64
				readErr := make(chan error, 1)
				go func() {
					next := make([]int, publishers)
					readErr <- readEach(ctx, b, r, func(s int64, e entry) error {
						if e.pub < 0 || e.pub >= publishers || e.i != next[e.pub] {
							return fmt.Errorf("slot %d holds entry %d of publisher %d, want entry %v", s, e.i, e.pub, next)
						}
						next[e.pub]++
						return nil
					}, released.Store)
				}()
				wg.Wait()
				total := int64(publishers * per)
				for released.Load() < total {
					select {
					case err := <-readErr:
						t.Fatalf("reader ended after %d of %d entries: %v", released.Load(), total, err)
					case <-ctx.Done():
						t.Fatalf("the reader released %d of %d entries: it slept through the last commits", released.Load(), total)
					case <-time.After(100 * time.Microsecond):
					}
				}
				b.Close()
				if err := <-readErr; !errors.Is(err, ring.ErrClosed) {
					t.Fatalf("reader ended with %v, want ErrClosed", err)
				}
			})
		}
	}
}

// TestWakeReadersReportsParker parks a ring's only reader on a Parker (alone,
// and behind WaitPhases.Before), commits quietly and checks that the reader
// sleeps on until WakeReaders, which reports it parked and hands it the whole
// range; with the reader awake, WakeReaders reports nobody parked.
func TestWakeReadersReportsParker(t *testing.T) {
	for _, m := range publisherModes() {
		for name, mk := range parkerWaiters(ring.WaitPhases{}) {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				b := mustNew[int](t, 16, m.opts...)
				defer b.Close()
				r := mustReader(t, b, ring.ReaderWaiter(mk(ring.NewParker())), ring.Linger(0))
				if b.WakeReaders() {
					t.Fatal("WakeReaders reported a parked reader before the reader waited")
				}
				type batch struct {
					lo, hi int64
					err    error
				}
				wait := func(probe *parkProbe) chan batch {
					got := make(chan batch, 1)
					go func() {
						lo, hi, err := r.Wait(probe)
						got <- batch{lo, hi, err}
					}()
					return got
				}
				next := int64(0)
				for round := range 3 {
					ctx, cancel := context.WithTimeout(context.Background(), hang)
					defer cancel()
					probe := &parkProbe{Context: ctx}
					got := wait(probe)
					waitSleeps(t, probe, 1)
					for range 3 {
						lo, err := b.Claim(probe, 2)
						if err != nil {
							t.Fatal(err)
						}
						*b.At(lo), *b.At(lo + 1) = int(lo), int(lo+1)
						b.CommitQuiet(lo, 2)
					}
					asleep := 20 * time.Millisecond
					if round > 0 {
						asleep = 2 * time.Millisecond
					}
					select {
					case g := <-got:
						t.Fatalf("round %d: the reader woke to [%d, %d), %v without WakeReaders", round, g.lo, g.hi, g.err)
					case <-time.After(asleep):
					}
					if !b.WakeReaders() {
						t.Fatalf("round %d: WakeReaders reported nobody parked, with the reader asleep on a Parker", round)
					}
					var g batch
					select {
					case g = <-got:
					case <-time.After(hang):
						t.Fatalf("round %d: WakeReaders did not wake the reader", round)
					}
					if g.err != nil || g.lo != next || g.hi != next+6 {
						t.Fatalf("round %d: reader got [%d, %d), %v; want [%d, %d), nil", round, g.lo, g.hi, g.err, next, next+6)
					}
					for s := g.lo; s < g.hi; s++ {
						if *b.At(s) != int(s) {
							t.Fatalf("slot %d = %d", s, *b.At(s))
						}
					}
					r.Release(g.hi)
					next = g.hi
					if b.WakeReaders() {
						t.Fatalf("round %d: WakeReaders reported a parked reader with the reader awake", round)
					}
				}
			})
		}
	}
}

// TestParkerRootFencesCommits checks that a ring whose commits wake a Parker
// commits with fenced stores: a Parker does not settle, so the Dekker
// handshake between its sleep and a commit's wake needs the committer's store
// ordered before its load of the Parker's state. It holds whether the Parker
// is the reader's waiter or sleeps behind phases, and beside a PhasedWaiter;
// a Parker that only a release wakes (a downstream reader's) does not take the
// ring's light commits away. Claims are unaffected.
func TestParkerRootFencesCommits(t *testing.T) {
	light := ring.LightAvailable
	t.Logf("light stores available: %v", light)
	cases := []struct {
		name        string
		readers     func(t *testing.T, b *ring.Buffer[int])
		wantCommits bool
	}{
		{"parker", func(t *testing.T, b *ring.Buffer[int]) {
			mustReader(t, b, ring.ReaderWaiter(ring.NewParker()))
		}, false},
		{"phases+parker", func(t *testing.T, b *ring.Buffer[int]) {
			mustReader(t, b, ring.ReaderWaiter(ring.WaitPhases{Yield: 2}.Before(ring.NewParker())))
		}, false},
		{"phased and parker", func(t *testing.T, b *ring.Buffer[int]) {
			mustReader(t, b)
			mustReader(t, b, ring.ReaderWaiter(ring.NewParker()))
		}, false},
		{"downstream parker", func(t *testing.T, b *ring.Buffer[int]) {
			root := mustReader(t, b)
			mustReader(t, b, ring.ReaderWaiter(ring.NewParker()), ring.After(root))
		}, light},
	}
	for _, multi := range []bool{false, true} {
		for _, tc := range cases {
			name := "single/" + tc.name
			var opts []ring.Option
			if multi {
				name = "multi/" + tc.name
				opts = append(opts, ring.MultiPublisher())
			}
			t.Run(name, func(t *testing.T) {
				b := mustNew[int](t, 8, opts...)
				tc.readers(t, b)
				b.Close() // freezes the reader set, as the first claim would
				claims, commits := ring.Light(b)
				if commits != tc.wantCommits {
					t.Errorf("light commits = %v, want %v", commits, tc.wantCommits)
				}
				if wantClaims := light && !multi; claims != wantClaims {
					t.Errorf("light claims = %v, want %v", claims, wantClaims)
				}
			})
		}
	}
}

// checkNoStaleToken parks a fresh sleeper on p and checks that it stays asleep (no token
// left over from the round before wakes it) until a real Wake; the last round watches
// longer.
func checkNoStaleToken(t *testing.T, p *ring.Parker, last bool) {
	t.Helper()
	s := startSleeper(t, p)
	d := 100 * time.Microsecond
	if last {
		d = 20 * time.Millisecond
	}
	s.checkAsleep(t, d)
	s.wake(t)
}
