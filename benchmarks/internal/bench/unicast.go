package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/loopyring/loopyring/ring"
)

// Unicast is a single ring, so the loopyring side uses package ring directly: one publisher
// goroutine and one reader. The publisher publishes as flow's sources do (see flushEvery):
// it claims a run of slots with one claim, writes them in place and commits them with one
// store; the reader takes whatever range is available, checks it in place and releases it
// with one store. Claiming and committing each entry alone was measured too and was
// rejected as the default: it spends on every entry the synchronisation that a ring lets a
// publisher spend once per run, which is the point of the design (see runLength).

func unicastLoopy(cfg Config, m *meter) error {
	buf, err := ring.New[payload](cfg.capacity())
	if err != nil {
		return err
	}
	r, err := buf.NewReader()
	if err != nil {
		return err
	}
	cpus, err := plan(cfg, 2)
	if err != nil {
		return err
	}
	ctx := context.Background()
	v := newVerifier(0, 1, true)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	ready := make(chan struct{})
	var up sync.WaitGroup
	up.Add(2)
	wg.Go(func() {
		errs[0] = pinSelf(cpus[0])
		up.Done()
		<-ready
		run := runLength(cfg)
		for i := int64(0); i < int64(cfg.N); {
			k := min(run, int64(cfg.N)-i)
			lo, err := buf.Claim(ctx, int(k))
			if err != nil {
				errs[0] = err
				break
			}
			for j := range k {
				*buf.At(lo + j) = newPayload(i+j, 0, cfg.corrupt)
			}
			buf.Commit(lo, int(k))
			i += k
		}
		buf.Close()
	})
	wg.Go(func() {
		errs[1] = pinSelf(cpus[1])
		up.Done()
		for span, err := range r.Batches(ctx) {
			if err != nil {
				errs[1] = err
				return
			}
			for s := span.Lo; s < span.Hi; s++ {
				v.see(buf.At(s))
			}
		}
	})
	up.Wait()
	m.timed(ready, &wg, cfg.N)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return check(cfg.N, v)
}

func unicastChan(cfg Config, m *meter) error {
	ch := make(chan payload, cfg.capacity())
	v := newVerifier(0, 1, true)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	feedChans(&wg, ready, cfg, ch)
	verifyChan(&wg, ch, v)
	m.timed(ready, &wg, cfg.N)
	return check(cfg.N, v)
}

// runLength is how many slots a ring publisher claims and commits at once: flushEvery, as a
// flow source commits, but never more than half the ring, so that the reader can work on
// one half while the publisher fills the other.
func runLength(cfg Config) int64 { return int64(min(flushEvery, cfg.capacity()/2)) }
