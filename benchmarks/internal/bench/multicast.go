package bench

import (
	"errors"
	"fmt"
	"sync"

	"github.com/loopyring/loopyring/flow"
)

// Multicast: three readers that each see every entry. On the loopyring side they are three
// sink levels attached to the publisher's one stream, so all three read the same ring in
// place and the publisher waits only for the slowest; the channel side must copy every
// entry into one channel per reader.

const multicastReaders = 3

func multicastLoopy(cfg Config, m *meter) error {
	g := flow.New(graphOptions(cfg)...)
	release := make(chan struct{})
	src := source(g, cfg, release)
	vs := make([]*verifier, multicastReaders)
	for i := range vs {
		vs[i] = newVerifier(0, 1, true)
		src.SinkBatch(1, verifyBatch(vs[i:i+1]), flow.Name(fmt.Sprintf("reader%d", i)))
	}
	if err := runGraph(g, m, release, cfg.N); err != nil {
		return err
	}
	return checkEach(cfg.N, vs)
}

func multicastChan(cfg Config, m *meter) error {
	chs := make([]chan payload, multicastReaders)
	vs := make([]*verifier, multicastReaders)
	for i := range chs {
		chs[i] = make(chan payload, cfg.capacity())
		vs[i] = newVerifier(0, 1, true)
	}
	ready := make(chan struct{})
	var wg sync.WaitGroup
	feedChans(&wg, ready, cfg, chs...)
	for i, ch := range chs {
		verifyChan(&wg, ch, vs[i])
	}
	m.timed(ready, &wg, cfg.N)
	return checkEach(cfg.N, vs)
}

// checkEach checks that every one of vs saw all n entries.
func checkEach(n int, vs []*verifier) error {
	var errs []error
	for i, v := range vs {
		if err := check(n, v); err != nil {
			errs = append(errs, fmt.Errorf("reader %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}
