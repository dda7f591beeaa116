package bench

import "sync"

// The channel side's two ends, written once: every topology's channel version feeds its
// payloads and verifies them the same way, so that the topologies differ only in their
// middles.

// feedChans starts the goroutine that, once ready is closed, sends the run's payloads
// 0..N-1 into every channel of outs in turn, then closes them.
func feedChans(wg *sync.WaitGroup, ready <-chan struct{}, cfg Config, outs ...chan payload) {
	wg.Go(func() {
		<-ready
		for i := range int64(cfg.N) {
			p := newPayload(i, 0, cfg.corrupt)
			for _, ch := range outs {
				ch <- p
			}
		}
		for _, ch := range outs {
			close(ch)
		}
	})
}

// verifyChan starts a goroutine that checks every payload of in with v until in is closed.
func verifyChan(wg *sync.WaitGroup, in <-chan payload, v *verifier) {
	wg.Go(func() {
		for p := range in {
			v.see(&p)
		}
	})
}
