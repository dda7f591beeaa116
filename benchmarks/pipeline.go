package benchmarks

import (
	"sync"

	"github.com/loopyring/loopyring/flow"
)

// Pipeline: the publisher, two stages that each do one hop of work, and a third that
// verifies; four goroutines on both sides, one ring or channel between each two.

func pipelineLoopy(cfg Config, m *meter) error {
	g := flow.New(graphOptions(cfg)...)
	release := make(chan struct{})
	v := newVerifier(2, 1, true)
	source(g, cfg, release).
		Then(1, hop, flow.Capacity(cfg.capacity()), flow.Name("stage1")).
		Then(1, hop, flow.Capacity(cfg.capacity()), flow.Name("stage2")).
		SinkBatch(1, verifyBatch([]*verifier{v}), flow.Name("stage3"))
	if err := runGraph(g, m, release, cfg.N); err != nil {
		return err
	}
	return check(cfg.N, v)
}

func pipelineChan(cfg Config, m *meter) error {
	chs := make([]chan payload, 3)
	for i := range chs {
		chs[i] = make(chan payload, cfg.capacity())
	}
	v := newVerifier(2, 1, true)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ready
		for i := range int64(cfg.N) {
			chs[0] <- newPayload(i, 0, cfg.corrupt)
		}
		close(chs[0])
	})
	for i := range 2 {
		in, out := chs[i], chs[i+1]
		wg.Go(func() {
			for p := range in {
				p.hop()
				out <- p
			}
			close(out)
		})
	}
	wg.Go(func() {
		for p := range chs[2] {
			v.see(&p)
		}
	})
	m.start()
	close(ready)
	wg.Wait()
	m.stop(cfg.N)
	return check(cfg.N, v)
}
