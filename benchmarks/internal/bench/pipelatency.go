package bench

import (
	"context"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/loopyring/loopyring/flow"
)

// Pipeline latency: a paced publisher stamps each entry as it publishes it, two stages do a
// hop of work each, and the third records how long the entry took from publication, with
// coordinated-omission correction at the publisher's interval. The stages are those of the
// pipeline topology: phases over the input's one ring on the loopyring side. On the loopyring side the
// publisher is an external goroutine publishing into a flow Input, one entry at a time:
// that is how a stream of requests enters a graph.

func (c Config) rate() int {
	if c.Rate == 0 {
		return DefaultRate
	}
	return c.Rate
}

func (c Config) interval() int64 { return int64(time.Second) / int64(c.rate()) }

// pacer releases the publisher at base + i×interval by sleeping until then; if the
// publisher falls behind it sends at once, and the correction accounts for the entries it
// was late with. It sleeps rather than spins: a spinning publisher holds a core from the
// kernel's point of view, and on a host with fewer cores than threads it delays the OS
// threads of flow's stages (which the kernel schedules) far more than goroutines (which
// Go's scheduler runs in its gaps), which would measure the pacer, not the hand-off. The
// cost is the timer's resolution (about 1 ms on the development VM): above 1000 entries/s
// entries leave in small bursts, the same on both sides.
type pacer struct {
	base     time.Time
	interval int64
}

func (p pacer) wait(i int64) {
	if d := time.Duration(i*p.interval - since(p.base)); d > 0 {
		time.Sleep(d)
	}
}

func pipelineLatencyLoopy(cfg Config, h *hdrhistogram.Histogram, m *meter) error {
	g := flow.New(graphOptions(cfg)...)
	in := flow.Input[payload](g, flow.Capacity(cfg.capacity()), flow.Name("publisher"))
	base := time.Now()
	interval := cfg.interval()
	v := newVerifier(2, 1, true)
	in.Phase(1, (*payload).hop, flow.Name("stage1")).
		Phase(1, (*payload).hop, flow.Name("stage2")).
		Sink(1, func(p payload) {
			record(h, since(base)-p.at, interval, int64(cfg.N))
			v.see(&p)
		}, flow.Name("stage3"))
	ctx := context.Background()
	if err := g.Start(ctx); err != nil {
		return err
	}
	m.start()
	pace := pacer{base: time.Now(), interval: interval}
	var err error
	for i := range int64(cfg.N) {
		pace.wait(i)
		p := newPayload(i, 0, cfg.corrupt)
		p.at = since(base)
		if err = in.Publish(ctx, p); err != nil {
			break
		}
	}
	if stopErr := g.Stop(); err == nil {
		err = stopErr
	}
	m.stop(cfg.N)
	if err != nil {
		return err
	}
	return check(cfg.N, v)
}

func pipelineLatencyChan(cfg Config, h *hdrhistogram.Histogram, m *meter) error {
	chs := make([]chan payload, 3)
	for i := range chs {
		chs[i] = make(chan payload, cfg.capacity())
	}
	base := time.Now()
	interval := cfg.interval()
	v := newVerifier(2, 1, true)
	var wg sync.WaitGroup
	hopChain(&wg, chs)
	wg.Go(func() {
		for p := range chs[2] {
			record(h, since(base)-p.at, interval, int64(cfg.N))
			v.see(&p)
		}
	})
	m.start()
	pace := pacer{base: time.Now(), interval: interval}
	for i := range int64(cfg.N) {
		pace.wait(i)
		p := newPayload(i, 0, cfg.corrupt)
		p.at = since(base)
		chs[0] <- p
	}
	close(chs[0])
	wg.Wait()
	m.stop(cfg.N)
	return check(cfg.N, v)
}
