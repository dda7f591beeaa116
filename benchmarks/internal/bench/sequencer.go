package bench

import (
	"context"
	"errors"
	"sync"

	"github.com/loopyring/loopyring/flow"
)

// Sequencer: three publishers write into one reader. On the loopyring side they are
// external goroutines publishing into a flow Input, which is one multi-publisher ring;
// each Publish claims one slot (one compare-and-swap), as each channel send takes the
// channel's lock once. Publisher i writes seqs i, i+3, i+6, ... so the reader can check each
// publisher's order.

const sequencerPublishers = 3

// publisherRange calls fn with every seq that publisher src of n writes, in order.
func publisherRange(n, src int, fn func(seq int64) bool) {
	for s := int64(src); s < int64(n); s += sequencerPublishers {
		if !fn(s) {
			return
		}
	}
}

func sequencerLoopy(cfg Config, m *meter) error {
	g := flow.New(graphOptions(cfg)...)
	in := flow.Input[payload](g, flow.Capacity(cfg.capacity()), flow.Name("publishers"))
	v := newVerifier(0, sequencerPublishers, true)
	in.SinkBatch(1, verifyBatch([]*verifier{v}), flow.Name("reader"))
	ctx := context.Background()
	if err := g.Start(ctx); err != nil {
		return err
	}
	ready := make(chan struct{})
	errs := make([]error, sequencerPublishers)
	var wg sync.WaitGroup
	for src := range sequencerPublishers {
		wg.Go(func() {
			<-ready
			publisherRange(cfg.N, src, func(seq int64) bool {
				errs[src] = in.Publish(ctx, newPayload(seq, int64(src), cfg.corrupt))
				return errs[src] == nil
			})
		})
	}
	m.start()
	close(ready)
	wg.Wait()
	err := g.Stop() // drains: the reader has verified everything when it returns
	m.stop(cfg.N)
	if err := errors.Join(append(errs, err)...); err != nil {
		return err
	}
	return check(cfg.N, v)
}

func sequencerChan(cfg Config, m *meter) error {
	ch := make(chan payload, cfg.capacity())
	v := newVerifier(0, sequencerPublishers, true)
	ready := make(chan struct{})
	var pubs, wg sync.WaitGroup
	for src := range sequencerPublishers {
		pubs.Go(func() {
			<-ready
			publisherRange(cfg.N, src, func(seq int64) bool {
				ch <- newPayload(seq, int64(src), cfg.corrupt)
				return true
			})
		})
	}
	wg.Go(func() {
		pubs.Wait()
		close(ch)
	})
	verifyChan(&wg, ch, v)
	m.timed(ready, &wg, cfg.N)
	return check(cfg.N, v)
}
