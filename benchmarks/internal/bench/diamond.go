package bench

import (
	"sync"

	"github.com/loopyring/loopyring/flow"
)

// Diamond: two readers work on every entry in parallel, each filling its own field, and a
// third reads an entry only after both are done with it. On the loopyring side these are
// phases over the publisher's one ring: nothing is copied, and the last reader's barrier
// waits for both phases. The channel side needs a copy per branch and a joiner that pairs
// the two results back up; it gets four goroutines, as flow does (publisher, two phases,
// sink).

func diamondLoopy(cfg Config, m *meter) error {
	g := flow.New(graphOptions(cfg)...)
	release := make(chan struct{})
	src := source(g, cfg, release)
	left := src.Phase(1, func(p *payload) { p.left = leftOf(p) }, flow.Name("left"))
	right := src.Phase(1, func(p *payload) { p.right = rightOf(p) }, flow.Name("right"))
	v := newVerifier(0, 1, true)
	v.diamond = true
	flow.Merge(left, right).SinkBatch(1, verifyBatch([]*verifier{v}), flow.Name("join"))
	if err := runGraph(g, m, release, cfg.N); err != nil {
		return err
	}
	return check(cfg.N, v)
}

func diamondChan(cfg Config, m *meter) error {
	capacity := cfg.capacity()
	toLeft, toRight := make(chan payload, capacity), make(chan payload, capacity)
	fromLeft, fromRight := make(chan payload, capacity), make(chan payload, capacity)
	v := newVerifier(0, 1, true)
	v.diamond = true
	ready := make(chan struct{})
	var wg sync.WaitGroup
	feedChans(&wg, ready, cfg, toLeft, toRight)
	wg.Go(func() {
		for p := range toLeft {
			p.left = leftOf(&p)
			fromLeft <- p
		}
		close(fromLeft)
	})
	wg.Go(func() {
		for p := range toRight {
			p.right = rightOf(&p)
			fromRight <- p
		}
		close(fromRight)
	})
	wg.Go(func() {
		for p := range fromLeft {
			r, ok := <-fromRight
			if ok && r.seq == p.seq && r.src == p.src {
				p.right = r.right
			} else {
				p.right = ^rightOf(&p) // the branches disagree: make see count it
			}
			v.see(&p)
		}
		for r := range fromRight { // entries the left branch lost
			v.see(&r)
		}
	})
	m.timed(ready, &wg, cfg.N)
	return check(cfg.N, v)
}
