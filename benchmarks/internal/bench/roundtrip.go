package bench

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/cpu"
)

// Every hand-off between threads on different cores moves cache lines between them, so the
// time one line takes to go there and back bounds what any queue can do, and it differs far
// more between hosts than clock speeds do: on the 2-vCPU development VM it ranged from 70 ns
// to 560 ns within one morning, and the ratios of the table moved with it. Reports carry it so
// that runs on different machines (or on one VM at different times) can be told apart.

// LineRoundTrip bounces one counter between two OS-locked goroutines for the given number
// of round trips, five times, and returns the median time per round trip. It returns 0 when
// it cannot measure: with GOMAXPROCS 1 the two goroutines would only take turns at each
// preemption, and a round that outlasts limit (a host too busy to run both) is abandoned.
func LineRoundTrip(rounds int, limit time.Duration) time.Duration {
	if runtime.GOMAXPROCS(0) < 2 || rounds < 1 {
		return 0
	}
	var times []time.Duration
	for range 5 {
		d, ok := bounce(rounds, limit)
		if !ok {
			return 0
		}
		times = append(times, d/time.Duration(rounds))
	}
	slices.Sort(times)
	return times[len(times)/2]
}

// bounce runs one measurement: the first goroutine moves the counter from even to odd, the
// second from odd to even. Both spin; both give up once stop is set.
func bounce(rounds int, limit time.Duration) (time.Duration, bool) {
	var line struct {
		_       cpu.CacheLinePad
		counter atomic.Int64
		stop    atomic.Bool
		_       cpu.CacheLinePad
	}
	timer := time.AfterFunc(limit, func() { line.stop.Store(true) })
	defer timer.Stop()
	end := int64(2 * rounds)
	// step waits for the counter to reach each of its turns and moves it on; it reports
	// false if stopped first.
	step := func(first int64) bool {
		for want := first; want < end; want += 2 {
			for line.counter.Load() != want {
				if line.stop.Load() {
					return false
				}
			}
			line.counter.Store(want + 1)
		}
		return true
	}
	var wg sync.WaitGroup
	var otherOK bool
	wg.Go(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		otherOK = step(1)
	})
	runtime.LockOSThread()
	start := time.Now()
	ok := step(0)
	elapsed := time.Since(start)
	runtime.UnlockOSThread()
	wg.Wait()
	return elapsed, ok && otherOK
}
