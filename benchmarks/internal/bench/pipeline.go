package bench

import (
	"sync"

	"github.com/loopyring/loopyring/flow"
)

// Pipeline: the publisher, two stages that each do one hop of work, and a third that
// verifies; four goroutines on both sides. As in the Disruptor's pipeline, the loopyring
// stages are phases over the publisher's one ring: each works on an entry in place once
// the stage before it has released it, so nothing is copied between stages. The channel
// side needs a channel between each two stages, each holding Capacity entries, and copies
// every entry into each. (Stages that each publish into a ring of their own, as flow's Then
// levels do, are the seed topology with -stages 1/1/1.)

func pipelineLoopy(cfg Config, m *meter) error {
	g := flow.New(graphOptions(cfg)...)
	release := make(chan struct{})
	v := newVerifier(2, 1, true)
	source(g, cfg, release).
		Phase(1, (*payload).hop, flow.Name("stage1")).
		Phase(1, (*payload).hop, flow.Name("stage2")).
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
	feedChans(&wg, ready, cfg, chs[0])
	hopChain(&wg, chs)
	verifyChan(&wg, chs[2], v)
	m.timed(ready, &wg, cfg.N)
	return check(cfg.N, v)
}

// hopChain starts one goroutine per link of chs: each takes a payload from chs[i], advances
// it one stage and passes it to chs[i+1], closing that channel when chs[i] is drained.
func hopChain(wg *sync.WaitGroup, chs []chan payload) {
	for i := range len(chs) - 1 {
		in, out := chs[i], chs[i+1]
		wg.Go(func() {
			for p := range in {
				p.hop()
				out <- p
			}
			close(out)
		})
	}
}
