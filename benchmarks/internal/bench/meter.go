package bench

import (
	"runtime"
	"sync"
	"time"
)

// Result is what one run of one side measured over its timed part only: building and
// tearing down the graph, the goroutines and the channels is outside it.
type Result struct {
	Entries int           // entries published (a multicast reader sees each of them)
	Elapsed time.Duration // wall time
	Allocs  uint64        // heap allocations by the whole process
	CPU     time.Duration // user and system CPU time of the whole process; 0 where unknown
}

// PerSecond returns the throughput in entries per second.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Entries) / r.Elapsed.Seconds()
}

// AllocsPerEntry returns the heap allocations per entry.
func (r Result) AllocsPerEntry() float64 {
	if r.Entries == 0 {
		return 0
	}
	return float64(r.Allocs) / float64(r.Entries)
}

// CPUPerEntry returns the CPU time (all threads) spent per entry.
func (r Result) CPUPerEntry() time.Duration {
	if r.Entries == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Entries)
}

// stopwatch is the part of *testing.B that a meter drives, so that go test's own timer and
// allocation counts cover the same timed part as Result; the package itself does not import
// testing.
type stopwatch interface {
	ResetTimer()
	StopTimer()
}

// meter takes a Result around a run's timed part. A topology calls start once everything
// is built and ready to go, and stop once the last entry has been verified (before joining
// and tearing down).
type meter struct {
	b       stopwatch // nil outside go test
	t0      time.Time
	cpu0    time.Duration
	mallocs uint64
	res     Result
}

func (m *meter) start() {
	var ms runtime.MemStats
	// ReadMemStats stops the world: it stays out of the timed part, as the graph build does.
	runtime.ReadMemStats(&ms)
	m.mallocs = ms.Mallocs
	m.cpu0 = processCPU()
	if m.b != nil {
		m.b.ResetTimer()
	}
	m.t0 = time.Now()
}

func (m *meter) stop(entries int) {
	m.res.Elapsed = time.Since(m.t0)
	if m.b != nil {
		m.b.StopTimer()
	}
	if cpu := processCPU(); cpu > 0 {
		m.res.CPU = cpu - m.cpu0
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.res.Allocs = ms.Mallocs - m.mallocs
	m.res.Entries = entries
}

// timed releases the side's goroutines and times them until wg is done: the tail every
// channel and ring runner shares.
func (m *meter) timed(ready chan struct{}, wg *sync.WaitGroup, entries int) {
	m.start()
	close(ready)
	wg.Wait()
	m.stop(entries)
}
