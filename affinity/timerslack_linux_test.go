package affinity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ownSlack is the calling thread's timer slack in nanoseconds, which any thread
// may read.
func ownSlack() int64 {
	v, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return -1
	}
	return int64(v)
}

// holdThreads runs fn on n goroutines at once, each locked to its thread for
// the whole time, so that they run on n different threads (the runtime starts
// threads to serve them if need be), and returns what each returned.
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

// otherSlacks reads every thread's slack through /proc, which for threads other
// than the caller takes CAP_SYS_NICE; ok is false without it. Threads that end
// meanwhile are left out.
func otherSlacks(t *testing.T) (m map[string]int64, ok bool) {
	t.Helper()
	tids, err := procThreads{}.list()
	if err != nil {
		t.Fatal(err)
	}
	m = make(map[string]int64)
	for _, tid := range tids {
		b, err := os.ReadFile("/proc/" + tid + "/timerslack_ns")
		switch {
		case errors.Is(err, fs.ErrPermission):
			return nil, false
		case err != nil:
			continue // the thread ended, or the kernel is older than 4.6
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		m[tid] = v
	}
	return m, true
}

// restoreSlack puts the calling thread's slack back on every thread after the
// test. The threads started during the test keep the test's value as their
// default, which no later test reads.
func restoreSlack(t *testing.T) {
	before := ownSlack()
	t.Cleanup(func() {
		if err := SetTimerSlack(time.Duration(before)); err != nil && !errors.Is(err, fs.ErrPermission) {
			t.Errorf("restoring the timer slack: %v", err)
		}
	})
}

// checkEveryThread checks that the threads that run goroutines have slack want,
// and, where the test may read them, that every thread of the process has.
func checkEveryThread(t *testing.T, want int64) {
	t.Helper()
	// More goroutines locked at once than the process has threads: the runtime
	// must start new ones, which have to have copied the slack.
	n := 4
	if tids, err := (procThreads{}).list(); err == nil {
		n += len(tids)
	}
	for i, got := range holdThreads(n, ownSlack) {
		if got != want {
			t.Errorf("goroutine %d of %d: its thread's slack is %d ns; want %d", i, n, got, want)
		}
	}
	if all, ok := otherSlacks(t); ok {
		for tid, got := range all {
			if got != want {
				t.Errorf("thread %s: slack %d ns; want %d", tid, got, want)
			}
		}
	}
}

func TestSetTimerSlackReachesEveryThread(t *testing.T) {
	restoreSlack(t)
	holdThreads(6, func() int64 { return 0 }) // threads that exist before the call
	const want = 7919
	err := SetTimerSlack(want * time.Nanosecond)
	if errors.Is(err, fs.ErrPermission) {
		// A binary with cgo (the race detector's links it) goes through /proc.
		t.Skipf("a binary with cgo, without CAP_SYS_NICE: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	checkEveryThread(t, want)
}

// TestProcPassesReachEveryThread runs the way a cgo binary takes, through
// /proc, which takes CAP_SYS_NICE.
func TestProcPassesReachEveryThread(t *testing.T) {
	if _, ok := otherSlacks(t); !ok {
		t.Skip("setting other threads' slack through /proc takes CAP_SYS_NICE")
	}
	restoreSlack(t)
	holdThreads(6, func() int64 { return 0 })
	const want = 6007
	runtime.LockOSThread()
	err := slackPasses(procThreads{self: strconv.Itoa(unix.Gettid())}, []byte(strconv.Itoa(want)))
	runtime.UnlockOSThread()
	if err != nil {
		t.Fatal(err)
	}
	checkEveryThread(t, want)
	// A thread that has ended is skipped, not an error.
	if err := (procThreads{}).write("999999999", []byte("1000")); err != nil {
		t.Errorf("writing the slack of a thread that does not exist: %v", err)
	}
}

func TestSetTimerSlackRefusesNonPositive(t *testing.T) {
	before := ownSlack()
	for _, d := range []time.Duration{0, -time.Microsecond} {
		if err := SetTimerSlack(d); err == nil || !strings.Contains(err.Error(), "must be positive") {
			t.Errorf("SetTimerSlack(%v) = %v; want a must-be-positive error", d, err)
		}
	}
	if got := ownSlack(); got != before {
		t.Errorf("slack changed from %d to %d ns by refused calls", before, got)
	}
}

// fakeThreads is a process whose listings are scripted: listing i returns
// lists[i] (the last one once they run out).
type fakeThreads struct {
	lists   [][]string
	listed  int
	self    string
	refuse  string // the thread whose write fails
	written []string
}

func (f *fakeThreads) list() ([]string, error) {
	i := min(f.listed, len(f.lists)-1)
	f.listed++
	if f.lists[i] == nil {
		return nil, errors.New("listing failed")
	}
	return f.lists[i], nil
}

func (f *fakeThreads) caller() string { return f.self }

func (f *fakeThreads) write(tid string, _ []byte) error {
	if tid == f.refuse {
		return fmt.Errorf("thread %s: %w", tid, fs.ErrPermission)
	}
	f.written = append(f.written, tid)
	return nil
}

func TestSlackPasses(t *testing.T) {
	growing := func() [][]string {
		var lists [][]string
		for i := range maxSlackPasses + 1 {
			lists = append(lists, []string{"1", strconv.Itoa(100 + i)})
		}
		return lists
	}()
	cases := []struct {
		name    string
		f       *fakeThreads
		err     string // "" for none
		written []string
	}{
		{
			name:    "a thread started during the first pass is written in the second",
			f:       &fakeThreads{lists: [][]string{{"1", "2", "3"}, {"1", "2", "3", "4"}}, self: "2"},
			written: []string{"1", "3", "2", "4"},
		},
		{
			name:    "the caller is written even if the listing missed it",
			f:       &fakeThreads{lists: [][]string{{"1"}}, self: "2"},
			written: []string{"1", "2"},
		},
		{
			name:    "a refusal comes before the caller is written",
			f:       &fakeThreads{lists: [][]string{{"1", "2", "3"}}, self: "1", refuse: "2"},
			err:     "permission denied",
			written: nil,
		},
		{
			name:    "threads that keep starting end the passes",
			f:       &fakeThreads{lists: growing, self: "1"},
			err:     "kept starting",
			written: nil, // not checked: one per pass
		},
		{
			name: "a listing that fails is the error",
			f:    &fakeThreads{lists: [][]string{nil}, self: "1"},
			err:  "listing failed",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := slackPasses(tc.f, []byte("1000"))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v; want one saying %q", err, tc.err)
			}
			if tc.err == "permission denied" && !errors.Is(err, fs.ErrPermission) {
				t.Errorf("error %v does not match fs.ErrPermission", err)
			}
			if tc.err != "kept starting" && !slices.Equal(tc.f.written, tc.written) {
				t.Errorf("wrote %q; want %q", tc.f.written, tc.written)
			}
		})
	}
}
