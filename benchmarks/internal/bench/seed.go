package bench

import (
	"fmt"
	"sync"

	"github.com/loopyring/loopyring/flow"
)

// Seed: the publisher, then levels of Config.Widths stages (2, 4, 2 by default) with shared
// work at each level: every entry goes to exactly one stage of each level. Every level but
// the last does one hop of work; the last verifies. Order across stages is not promised on
// either side, so the verifier checks counts, seqs and check words only.

func seedLoopy(cfg Config, m *meter) error {
	widths := cfg.widths()
	g := flow.New(graphOptions(cfg)...)
	release := make(chan struct{})
	stream := source(g, cfg, release)
	for lv, w := range widths[:len(widths)-1] {
		stream = stream.Then(w, hop, flow.Capacity(cfg.capacity()), flow.Name(fmt.Sprintf("level%d", lv+1)))
	}
	vs := make([]*verifier, widths[len(widths)-1])
	for i := range vs {
		vs[i] = newVerifier(len(widths)-1, 1, false)
	}
	stream.SinkBatch(len(vs), verifyBatch(vs), flow.Name(fmt.Sprintf("level%d", len(widths))))
	if err := runGraph(g, m, release, cfg.N); err != nil {
		return err
	}
	return check(cfg.N, vs...)
}

// seedChan gives each level one channel that all of its goroutines receive from, holding as
// many entries as the rings of the level before it hold together (capacity × its width).
func seedChan(cfg Config, m *meter) error {
	widths := cfg.widths()
	ins := make([]chan payload, len(widths))
	for lv := range widths {
		slots := cfg.capacity()
		if lv > 0 {
			slots *= widths[lv-1]
		}
		ins[lv] = make(chan payload, slots)
	}
	last := len(widths) - 1
	vs := make([]*verifier, widths[last])
	for i := range vs {
		vs[i] = newVerifier(last, 1, false)
	}
	ready := make(chan struct{})
	var wg sync.WaitGroup
	feedChans(&wg, ready, cfg, ins[0])
	for lv, w := range widths {
		in := ins[lv]
		if lv == last {
			for i := range w {
				verifyChan(&wg, in, vs[i])
			}
			break
		}
		out := ins[lv+1]
		var level sync.WaitGroup
		for range w {
			level.Go(func() {
				for p := range in {
					p.hop()
					out <- p
				}
			})
		}
		wg.Go(func() {
			level.Wait()
			close(out)
		})
	}
	m.timed(ready, &wg, cfg.N)
	return check(cfg.N, vs...)
}
