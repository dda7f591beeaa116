package affinity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func setTimerSlack(d time.Duration) error {
	_, _, errno := syscall.AllThreadsSyscall(unix.SYS_PRCTL, unix.PR_SET_TIMERSLACK, uintptr(d), 0)
	switch errno {
	case 0:
		return nil
	case syscall.ENOTSUP: // a cgo binary
		runtime.LockOSThread() // so that the calling thread stays the one written last
		defer runtime.UnlockOSThread()
		return slackPasses(procThreads{self: strconv.Itoa(unix.Gettid())}, []byte(strconv.FormatInt(int64(d), 10)))
	}
	return fmt.Errorf("affinity: timer slack: prctl: %w", errno)
}

// threads is what slackPasses needs of the process: its threads, the calling
// one, and a way to write one thread's slack. The tests give it fakes.
type threads interface {
	list() ([]string, error)
	caller() string
	write(tid string, value []byte) error
}

// maxSlackPasses bounds the passes over the process's threads: each pass sets
// the threads that the one before did not find, and a thread started during a
// pass may have copied a thread's slack before the pass wrote it. The runtime
// starts threads rarely, so a pass or two is the rule.
const maxSlackPasses = 100

// slackPasses writes value to every thread until a pass finds none it has not
// written. The calling thread is written last in each pass, so that a refusal,
// which comes with the first other thread, leaves every thread as it was.
func slackPasses(ts threads, value []byte) error {
	done := make(map[string]bool)
	for range maxSlackPasses {
		tids, err := ts.list()
		if err != nil {
			return fmt.Errorf("affinity: timer slack: %w", err)
		}
		var fresh []string
		for _, tid := range tids {
			if !done[tid] && tid != ts.caller() {
				fresh = append(fresh, tid)
			}
		}
		if !done[ts.caller()] {
			fresh = append(fresh, ts.caller())
		}
		if len(fresh) == 0 {
			return nil
		}
		for _, tid := range fresh {
			if err := ts.write(tid, value); err != nil {
				return err
			}
			done[tid] = true
		}
	}
	return fmt.Errorf("affinity: timer slack: threads kept starting through %d passes", maxSlackPasses)
}

// procThreads is the process as /proc shows it. A thread's slack is in
// /proc/TID/timerslack_ns (the task directories under /proc/self/task have
// none).
type procThreads struct{ self string }

func (p procThreads) caller() string { return p.self }

func (procThreads) list() ([]string, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	tids := make([]string, len(tasks))
	for i, t := range tasks {
		tids[i] = t.Name()
	}
	return tids, nil
}

// write writes one thread's slack. A thread that ended since the listing is
// skipped; a file missing for a thread that is still there means a kernel older
// than 4.6.
func (procThreads) write(tid string, value []byte) error {
	f, err := os.OpenFile("/proc/"+tid+"/timerslack_ns", os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write(value)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		return nil
	}
	if _, serr := os.Stat("/proc/self/task/" + tid); errors.Is(serr, fs.ErrNotExist) {
		return nil // the thread has ended
	}
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("affinity: timer slack: the kernel has no per-thread timerslack_ns (Linux 4.6 or later): %w", errors.ErrUnsupported)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("affinity: timer slack of thread %s: setting another thread's needs CAP_SYS_NICE in a program with cgo: %w", tid, err)
	}
	return fmt.Errorf("affinity: timer slack of thread %s: %w", tid, err)
}
