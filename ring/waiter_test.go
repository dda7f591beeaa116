package ring_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopyring/loopyring/ring"
)

// TestPhasedWaiterNoLostWake races a Wake against a waiter going to sleep, many
// times, with every phase configuration. A lost wake leaves the waiter asleep
// until the hang deadline, which fails the test.
func TestPhasedWaiterNoLostWake(t *testing.T) {
	for _, ph := range [][2]int{{0, 0}, {1, 0}, {0, 2}, {-1, -1}} {
		t.Run(fmt.Sprintf("spin=%d/yield=%d", ph[0], ph[1]), func(t *testing.T) {
			w := new(ring.PhasedWaiter) // {-1, -1}: the zero value's defaults
			if ph[0] >= 0 {
				w = ring.NewPhasedWaiter(ph[0], ph[1])
			}
			ctx, cancel := context.WithTimeout(context.Background(), hang)
			defer cancel()
			// Ping-pong: the waiter reports each finished Wait in done, and
			// the waker stores the next flag the moment it sees that, so the
			// Wake lands while the waiter is on its way to sleep.
			var flag, done atomic.Int64
			errc := make(chan error, 1)
			iters := scale(100000, 50)
			go func() {
				for i := 1; i <= iters; i++ {
					want := int64(i)
					if err := w.Wait(ctx, func() bool { return flag.Load() >= want }); err != nil {
						errc <- fmt.Errorf("iteration %d: %w (lost wake)", i, err)
						done.Store(int64(iters)) // release the waker
						return
					}
					done.Store(want)
				}
				errc <- nil
			}()
			for i := 1; i <= iters; i++ {
				flag.Store(int64(i))
				w.Wake()
				for done.Load() < int64(i) {
					runtime.Gosched()
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestPhasedWaiterWakesAll parks several goroutines on one waiter; one Wake
// must release them all.
func TestPhasedWaiterWakesAll(t *testing.T) {
	w := ring.NewPhasedWaiter(0, 0)
	var flag atomic.Bool
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 8 {
		wg.Go(func() {
			if w.Wait(ctx, flag.Load) != nil {
				failed.Add(1)
			}
		})
	}
	time.Sleep(10 * time.Millisecond)
	flag.Store(true)
	w.Wake()
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of 8 waiters were not woken", n)
	}
}

func TestPhasedWaiterCancel(t *testing.T) {
	w := new(ring.PhasedWaiter)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- w.Wait(ctx, func() bool { return false }) }()
	time.Sleep(5 * time.Millisecond)
	cancel()
	wantErr(t, errc, context.Canceled, "Wait canceled while waiting")
	// A canceled waiter leaves nothing behind: the next Wait parks and wakes normally.
	var flag atomic.Bool
	go func() { errc <- w.Wait(context.Background(), flag.Load) }()
	time.Sleep(5 * time.Millisecond)
	flag.Store(true)
	w.Wake()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func TestPhasedWaiterAllocs(t *testing.T) {
	w := ring.NewPhasedWaiter(0, 0)
	var flag atomic.Bool
	flag.Store(true)
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() {
		w.Wake()
		_ = w.Wait(ctx, flag.Load)
	}); n != 0 {
		t.Fatalf("Wake+ready Wait: %v allocs per run, want 0", n)
	}
	// Parking and waking reuse the waiter's channels. AllocsPerRun counts the
	// allocations of every goroutine, so the parked side is measured too.
	var seq atomic.Int64
	var seen int64 // written and read only by the waiting goroutine
	ready := func() bool { return seq.Load() > seen }
	ack := make(chan struct{})
	stop := make(chan struct{})
	go func() {
		for {
			if err := w.Wait(ctx, ready); err != nil {
				panic(err)
			}
			seen = seq.Load()
			select {
			case ack <- struct{}{}:
			case <-stop:
				return
			}
		}
	}()
	defer func() {
		close(stop)
		seq.Add(1)
		w.Wake()
	}()
	round := func() {
		time.Sleep(20 * time.Microsecond) // usually enough for the waiter to park
		seq.Add(1)
		w.Wake()
		<-ack
	}
	round() // warm up: the first park allocates the waiter's channel
	if n := testing.AllocsPerRun(200, round); n != 0 {
		t.Fatalf("park and wake: %v allocs per run, want 0", n)
	}
}
