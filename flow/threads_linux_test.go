package flow_test

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// TestStageThreadsAreRetired records the OS thread of every dedicated stage (each stage's
// goroutine is locked to one for life) and checks that each of those threads is gone once the graph has
// stopped: a stage's goroutine exits while locked, so the runtime ends its thread rather
// than returning it, with whatever CPU mask it was given, to the pool.
func TestStageThreadsAreRetired(t *testing.T) {
	for round := range scale(5, 2) {
		var mu sync.Mutex
		tids := map[string]int{} // "level/stage" -> thread id
		record := func(level string, stage int) {
			tid := syscall.Gettid()
			mu.Lock()
			defer mu.Unlock()
			key := fmt.Sprintf("%s/%d", level, stage)
			if prev, ok := tids[key]; ok && prev != tid {
				t.Errorf("stage %s moved from thread %d to %d: it is not locked", key, prev, tid)
			}
			tids[key] = tid
		}
		g := flow.New(flow.GraphMode(flow.Dedicated))
		in := flow.Input[int](g, flow.Capacity(64))
		in.Expand(3, func(v int, e *flow.Emitter[int]) {
			record("expand", e.Stage().Index())
			e.Emit(v)
		}, flow.Name("expand")).
			Broadcast().
			SinkBatch(2, func(b *flow.Batch[int]) error {
				record("sink", b.Stage().Index())
				return nil
			}, flow.Name("sink"))
		flow.Source(g, 2, func(s *flow.SourceStage[int]) error {
			record("source", s.Index())
			return nil
		}, flow.Name("source")).Sink(1, func(int) {})
		start(t, g)
		publishAll(t, in, 3000, id)
		mustStop(t, g, nil)
		if len(tids) != 3+2+2 {
			t.Fatalf("round %d: recorded the threads of %d stages, want 7: %v", round, len(tids), tids)
		}
		for key, tid := range tids {
			alive := func() bool {
				_, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", tid))
				return err == nil
			}
			if !eventually(func() bool { return !alive() }) {
				t.Fatalf("round %d: stage %s's thread %d still exists after Stop", round, key, tid)
			}
		}
	}
}
