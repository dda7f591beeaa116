package bench

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/loopyring/loopyring/ring"
)

// Ping-pong: one goroutine sends an entry, the other does a hop of work on it and sends it
// back, and the first times the round trip before it sends the next. On the loopyring side
// each direction is one ring used directly (two goroutines in all, as on the channel side).
// Each reader sleeps on a ring.Parker, the waiter for a reader that one goroutine owns: it
// parks in the Go runtime at once, so the two sides hand off on one processor as channels
// do. (The default PhasedWaiter spins, then yields, then parks; its yield phase puts the
// sides on two processors and every hop across cores, which gave a p99 of 5-6 µs against a
// Parker's 1 µs on 2 vCPUs.) Both readers turn lingering off: a round trip carries one
// entry, so a pause to gather more only adds to it.

func pingPongLoopy(cfg Config, h *hdrhistogram.Histogram, m *meter) error {
	ping, err := ring.New[payload](cfg.capacity())
	if err != nil {
		return err
	}
	pong, err := ring.New[payload](cfg.capacity())
	if err != nil {
		return err
	}
	pingR, err := ping.NewReader(ring.Linger(0), ring.ReaderWaiter(ring.NewParker()))
	if err != nil {
		return err
	}
	pongR, err := pong.NewReader(ring.Linger(0), ring.ReaderWaiter(ring.NewParker()))
	if err != nil {
		return err
	}
	cpus, err := plan(cfg, 2)
	if err != nil {
		return err
	}
	ctx := context.Background()
	errs := make([]error, 2)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer pong.Close()
		if errs[1] = pinSelf(cpus[1]); errs[1] != nil {
			return
		}
		for span, err := range pingR.Batches(ctx) {
			if err != nil {
				errs[1] = err
				return
			}
			for s := span.Lo; s < span.Hi; s++ {
				p := *ping.At(s)
				p.hop()
				q, err := pong.Claim(ctx, 1)
				if err != nil {
					errs[1] = err
					return
				}
				*pong.At(q) = p
				pong.Commit(q, 1)
			}
		}
	})
	v := newVerifier(1, 1, true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ping.Close()
		if errs[0] = pinSelf(cpus[0]); errs[0] != nil {
			return
		}
		m.start()
		for i := range int64(cfg.N) {
			t0 := time.Now()
			lo, err := ping.Claim(ctx, 1)
			if err != nil {
				errs[0] = err
				return
			}
			*ping.At(lo) = newPayload(i, 0, cfg.corrupt)
			ping.Commit(lo, 1)
			lo, hi, err := pongR.Wait(ctx)
			if err != nil {
				errs[0] = err
				return
			}
			for s := lo; s < hi; s++ {
				v.see(pong.At(s))
			}
			pongR.Release(hi)
			record(h, int64(time.Since(t0)), 0, 0)
		}
		m.stop(cfg.N)
	}()
	<-done
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return check(cfg.N, v)
}

func pingPongChan(cfg Config, h *hdrhistogram.Histogram, m *meter) error {
	ping, pong := make(chan payload, cfg.capacity()), make(chan payload, cfg.capacity())
	var wg sync.WaitGroup
	wg.Go(func() {
		for p := range ping {
			p.hop()
			pong <- p
		}
		close(pong)
	})
	v := newVerifier(1, 1, true)
	m.start()
	for i := range int64(cfg.N) {
		t0 := time.Now()
		ping <- newPayload(i, 0, cfg.corrupt)
		p := <-pong
		v.see(&p)
		record(h, int64(time.Since(t0)), 0, 0)
	}
	m.stop(cfg.N)
	close(ping)
	wg.Wait()
	return check(cfg.N, v)
}
