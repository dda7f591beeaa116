//go:build linux || darwin || freebsd || dragonfly || netbsd || openbsd

// The examples' output is what a loop prints; where New fails with
// errors.ErrUnsupported it could not match, so they build only where a loop
// exists.

package poller_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/loopyring/loopyring/poller"
)

// A consumer sleeps in its loop until a producer publishes; a timer runs on
// the same loop meanwhile.
func Example() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	l, err := poller.New()
	if err != nil {
		fmt.Println(err) // errors.ErrUnsupported without epoll or kqueue
		return
	}
	defer l.Close()

	l.AfterFunc(time.Millisecond, func() { fmt.Println("timer fired while waiting") })

	var published atomic.Int64
	go func() {
		time.Sleep(20 * time.Millisecond)
		published.Store(42) // publish first,
		l.Wake()            // then wake: this order is what makes the wakeup safe
	}()

	err = l.Wait(context.Background(), func() bool { return published.Load() != 0 })
	fmt.Println("woken with", published.Load(), err)
	// Output:
	// timer fired while waiting
	// woken with 42 <nil>
}

// Run serves until Stop, which any goroutine may call.
func ExampleLoop_Run() {
	l, err := poller.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	ticks := 0
	l.Every(time.Millisecond, func() {
		if ticks++; ticks == 3 {
			go l.Stop()
		}
	})
	err = l.Run(context.Background())
	fmt.Println(ticks >= 3, err)
	// Output:
	// true <nil>
}
