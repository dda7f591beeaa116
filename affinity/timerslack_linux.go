package affinity

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// maxSlackPasses bounds the passes over the process's threads: each pass sets the threads
// that the one before did not find, and a thread started during a pass may have copied a
// thread's slack before the pass wrote it. The runtime starts threads rarely, so a pass or
// two is the rule.
const maxSlackPasses = 100

func setTimerSlack(d time.Duration) error {
	value := []byte(strconv.FormatInt(int64(d), 10))
	set := make(map[string]bool)
	for range maxSlackPasses {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("affinity: timer slack: %w", err)
		}
		fresh := 0
		for _, t := range tasks {
			tid := t.Name()
			if set[tid] {
				continue
			}
			fresh++
			if err := writeSlack(tid, value); err != nil {
				return err
			}
			set[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
	return fmt.Errorf("affinity: timer slack: threads kept starting through %d passes", maxSlackPasses)
}

// writeSlack writes one thread's slack. The per-thread file is /proc/TID/timerslack_ns
// (the task directories under /proc/self/task have none). A thread that ended since the
// listing is skipped; a file missing for a thread that is still there means a kernel
// older than 4.6.
func writeSlack(tid string, value []byte) error {
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
	return fmt.Errorf("affinity: timer slack of thread %s: %w", tid, err)
}
