package affinity

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// placement says how one side of a ping-pong runs: on a plain goroutine, on a
// goroutine locked to its thread, or locked and pinned to cpu.
type placement struct {
	lock bool
	cpu  int // -1: not pinned
}

// onThread runs fn under pl and reports any error setting it up or undoing
// it. A thread whose mask cannot be restored stays locked, so that the
// runtime discards it instead of reusing a pinned thread.
func onThread(pl placement, fn func()) (err error) {
	if !pl.lock {
		fn()
		return nil
	}
	runtime.LockOSThread()
	saved, err := Current()
	if err != nil {
		return err
	}
	if pl.cpu >= 0 {
		if err := Pin(pl.cpu); err != nil {
			return err
		}
	}
	fn()
	if err := Pin(saved...); err != nil {
		return err
	}
	runtime.UnlockOSThread()
	return nil
}

// BenchmarkPingPong measures one round trip of a counter between two
// goroutines over unbuffered channels, each side checking what it receives.
// chan is the baseline; the others show what locking the goroutines to
// threads costs (every hand-off becomes a thread wakeup) and what pinning
// both threads to one CPU, or to two, changes on top of that.
func BenchmarkPingPong(b *testing.B) {
	allowed, err := Allowed()
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		a, z placement
	}{
		{"chan", placement{false, -1}, placement{false, -1}},
		{"locked", placement{true, -1}, placement{true, -1}},
		{"pinned=same", placement{true, allowed[0]}, placement{true, allowed[0]}},
		{"pinned=apart", placement{true, allowed[0]}, placement{true, allowed[len(allowed)-1]}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			if tc.a.cpu != tc.z.cpu && len(allowed) < 2 {
				b.Skip("one CPU allowed")
			}
			b.ReportAllocs()
			pingPong(b, tc.a, tc.z)
		})
	}
}

func pingPong(b *testing.B, a, z placement) {
	ping, pong := make(chan uint64), make(chan uint64)
	start := make(chan struct{})
	var wg sync.WaitGroup
	var errA, errZ error
	var bad [2]string
	n := uint64(b.N)
	wg.Go(func() {
		errA = onThread(a, func() {
			<-start
			for i := range n {
				ping <- 2 * i
				if v := <-pong; v != 2*i+1 && bad[0] == "" {
					bad[0] = fmt.Sprintf("pong %d; want %d", v, 2*i+1)
				}
			}
		})
	})
	wg.Go(func() {
		errZ = onThread(z, func() {
			<-start
			for i := range n {
				v := <-ping
				if v != 2*i && bad[1] == "" {
					bad[1] = fmt.Sprintf("ping %d; want %d", v, 2*i)
				}
				pong <- v + 1
			}
		})
	})
	b.ResetTimer()
	close(start)
	wg.Wait()
	b.StopTimer()
	for _, err := range []error{errA, errZ} {
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, s := range bad {
		if s != "" {
			b.Fatal(s)
		}
	}
}

// BenchmarkPin measures a pin and its undo: two sched_setaffinity calls, and
// the migration they force when the thread is not already on the target.
func BenchmarkPin(b *testing.B) {
	allowed, err := Allowed()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	err = onThread(placement{lock: true, cpu: -1}, func() {
		for b.Loop() {
			if err := Pin(allowed[len(allowed)-1]); err != nil {
				b.Fatal(err)
			}
			if err := Pin(allowed...); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
}
