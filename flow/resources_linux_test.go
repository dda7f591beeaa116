package flow_test

import (
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/loopyring/loopyring/flow"
)

// TestStartOutOfDescriptorsFailsCleanly: with the descriptor limit a little above what is
// open, building the event loops of a 64-stage dedicated graph fails part-way. Start must
// return an error naming the level and stage (it once panicked on a nil stage while
// releasing what it had built), and release every loop it made, raise no GOMAXPROCS and
// leave no goroutine (goleak, in TestMain).
func TestStartOutOfDescriptorsFailsCleanly(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skip(err)
	}
	before, procs := openFDs(t), runtime.GOMAXPROCS(0)
	low := lim
	low.Cur = uint64(before + 40)
	if low.Cur > lim.Max {
		t.Skip("the hard descriptor limit is too low to test")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Skip(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()

	g := flow.New(flow.GraphMode(flow.Dedicated))
	in := flow.Input[int](g, flow.Capacity(2))
	in.Then(32, id, flow.Capacity(2), flow.Name("wide")).Sink(32, func(int) {}, flow.Name("sink"))
	err := g.Start(t.Context())
	restore()
	if err == nil {
		g.Stop()
		t.Fatal("Start succeeded with too few descriptors for 64 event loops")
	}
	t.Log(err)
	if !strings.Contains(err.Error(), "stage ") || !strings.Contains(err.Error(), `level "`) {
		t.Fatalf("Start: %v; want the level and stage that failed named", err)
	}
	if after := openFDs(t); after != before {
		t.Fatalf("%d descriptors open after the failed Start, %d before", after, before)
	}
	if got := runtime.GOMAXPROCS(0); got != procs {
		t.Fatalf("GOMAXPROCS %d after the failed Start, was %d", got, procs)
	}
	if err := in.Publish(t.Context(), 1); err != flow.ErrStopped {
		t.Fatalf("Publish after the failed Start: %v, want ErrStopped", err)
	}
}
