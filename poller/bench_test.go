package poller

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
)

var sink int32

// BenchmarkWake measures Wake on an awake loop, the producer's hot path,
// against the atomic load it reduces to.
func BenchmarkWake(b *testing.B) {
	b.Run("awake", func(b *testing.B) {
		l := newLoop(b)
		b.ReportAllocs()
		for b.Loop() {
			l.Wake()
		}
		if s := l.Stats(); s.Wakeups != 0 {
			b.Fatalf("awake loop was written to: %+v", s)
		}
	})
	b.Run("atomic-load", func(b *testing.B) {
		var state atomic.Int32
		b.ReportAllocs()
		for b.Loop() {
			if state.Load() == stateSleeping {
				sink++
			}
		}
	})
}

// BenchmarkPingPong measures one round trip between two OS-locked goroutines
// that sleep between turns: each op hands the counter over and back. The loop
// version sleeps in epoll_pwait/kevent and is woken through the wake
// descriptor; the channel version parks in the Go scheduler. Both carry and
// check the same payload.
func BenchmarkPingPong(b *testing.B) {
	b.Run("loop", func(b *testing.B) {
		a, c := newLoop(b), newLoop(b)
		var ping, pong atomic.Int64
		ctx := context.Background()
		done := make(chan int64)
		stop := int64(-1)
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			var seen int64
			for {
				_ = c.Wait(ctx, func() bool { return ping.Load() != seen })
				seen = ping.Load()
				if seen == stop {
					done <- pong.Load()
					return
				}
				pong.Store(seen)
				a.Wake()
			}
		}()
		i := roundTrips(b, true, func(i int64) {
			ping.Store(i)
			c.Wake()
			_ = a.Wait(ctx, func() bool { return pong.Load() == i })
		})
		ping.Store(stop)
		c.Wake()
		if last := <-done; last != i {
			b.Fatalf("last payload %d, want %d", last, i)
		}
	})
	// The channel baseline, between plain goroutines as Go code would write it,
	// and between OS-locked goroutines as the loop version runs (a locked
	// goroutine's hand-off needs a thread switch too).
	b.Run("chan", func(b *testing.B) { benchChanPingPong(b, false) })
	b.Run("chan-locked", func(b *testing.B) { benchChanPingPong(b, true) })
}

func benchChanPingPong(b *testing.B, locked bool) {
	ping, pong := make(chan int64), make(chan int64)
	go func() {
		if locked {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
		}
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	roundTrips(b, locked, func(i int64) {
		ping <- i
		if v := <-pong; v != i {
			b.Fatalf("payload %d, want %d", v, i)
		}
	})
	close(ping)
	<-pong
}

// roundTrips is the measuring side of a ping-pong benchmark, the same for the
// loop and its channel baselines: on an OS-locked goroutine where locked, it
// makes one round trip per op with the payloads 1, 2, ... and returns the last.
func roundTrips(b *testing.B, locked bool, roundTrip func(i int64)) int64 {
	if locked {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		i++
		roundTrip(i)
	}
	return i
}
