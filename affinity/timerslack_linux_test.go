package affinity

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// readSlack reads one thread's timer slack in nanoseconds; -1 if it cannot.
func readSlack(tid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/timerslack_ns")
	if err != nil {
		return -1
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

func threadSlack(t *testing.T, tid int) int64 {
	t.Helper()
	v := readSlack(tid)
	if v < 0 {
		t.Fatalf("cannot read the timer slack of thread %d", tid)
	}
	return v
}

// processSlacks reads the slack of every thread of the process.
func processSlacks(t *testing.T) map[int]int64 {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[int]int64)
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat("/proc/" + task.Name() + "/timerslack_ns"); os.IsNotExist(err) {
			t.Skip("no per-thread timerslack_ns on this kernel")
		}
		m[tid] = threadSlack(t, tid)
	}
	return m
}

// holdThreads runs fn on n goroutines at once, each locked to its thread for the whole
// time, so that they run on n different threads, and returns what each returned.
func holdThreads(n int, fn func() int64) []int64 {
	out := make([]int64, n)
	var started, done sync.WaitGroup
	release := make(chan struct{})
	for i := range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			out[i] = fn()
			started.Done()
			<-release
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
	return out
}

// restoreSlack puts the slack the main thread had back on every thread after the test.
func restoreSlack(t *testing.T) {
	before := threadSlack(t, os.Getpid())
	t.Cleanup(func() {
		if err := SetTimerSlack(time.Duration(before)); err != nil {
			t.Errorf("restoring the timer slack: %v", err)
		}
	})
}

func TestSetTimerSlackReachesEveryThread(t *testing.T) {
	processSlacks(t) // skips on a kernel without the per-thread file
	restoreSlack(t)
	// Some threads that exist before the call, beyond the few the runtime starts with.
	holdThreads(6, func() int64 { return 0 })
	const want = 7919
	if err := SetTimerSlack(want * time.Nanosecond); err != nil {
		t.Fatal(err)
	}
	for tid, got := range processSlacks(t) {
		if got != want {
			t.Errorf("thread %d: slack %d ns; want %d", tid, got, want)
		}
	}
	// Threads the runtime starts afterwards inherit it: holding more threads than exist
	// makes it start new ones.
	n := len(processSlacks(t)) + 4
	for i, got := range holdThreads(n, func() int64 { return readSlack(unix.Gettid()) }) {
		if got != want {
			t.Errorf("goroutine %d of %d: its thread's slack is %d ns; want %d", i, n, got, want)
		}
	}
}

func TestSetTimerSlackRefusesNonPositive(t *testing.T) {
	before := processSlacks(t)
	for _, d := range []time.Duration{0, -time.Microsecond} {
		if err := SetTimerSlack(d); err == nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("SetTimerSlack(%v) = %v; want a must-be-positive error", d, err)
		}
	}
	for tid, got := range processSlacks(t) {
		if old, ok := before[tid]; ok && got != old {
			t.Errorf("thread %d: slack changed from %d to %d ns by a refused call", tid, old, got)
		}
	}
}
