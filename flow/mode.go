package flow

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/poller"
)

// Mode is how a stage runs. Both modes keep the same contract (order, delivery, drain,
// errors); they differ in what a hop between stages costs.
type Mode uint8

const (
	// Auto (the default) runs every stage of a graph dedicated when each can have a CPU of
	// its own among the CPUs the process may use (counting the stages of the graphs
	// already running), and shared otherwise (and wherever the
	// platform has no event loop, see poller.Supported). A pinned level (Placement, CPUs)
	// runs dedicated.
	Auto Mode = iota
	// Dedicated runs the stage on its own OS-locked goroutine, pinned where placement says,
	// sleeping in its own event loop (epoll or kqueue) when idle, and spinning first while
	// the process has spare cores. A hop to a sleeping dedicated stage is a kernel thread
	// wake; one to a spinning stage, a cache-line transfer. For hosts where every stage can
	// own a core.
	Dedicated
	// Shared runs the stage as a plain goroutine that parks in the Go runtime when idle and
	// is woken without a system call: on one P the scheduler hands off between stages as it
	// does for channels. For hosts with fewer cores than stages, where a kernel wake per
	// hop costs more than the work. A shared source keeps its event loop (its fds and timers
	// need one) and waits there when idle, as a blocking system call of a plain goroutine;
	// what it gains is a goroutine that is not locked to a thread, so a reader that frees
	// room in its full ring wakes it as it would any goroutine, and it raises no GOMAXPROCS.
	// What it costs: while it sleeps in the loop it keeps a P until the runtime takes that P
	// back for other goroutines, so beside shared stages that keep every P busy its fds and
	// timers are served later than a dedicated source's would be; a source that must serve
	// them promptly on such a host asks for StageMode(Dedicated). Code that depends on the
	// thread it runs on needs StageMode(Dedicated) as well.
	Shared
)

func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case Dedicated:
		return "dedicated"
	case Shared:
		return "shared"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

func (m Mode) valid() bool { return m <= Shared }

// StageMode runs the level's stages in mode m, whatever the graph's mode. Shared on a pinned
// level is an error (a shared stage has no thread of its own to pin).
func StageMode(m Mode) Option {
	return func(o *levelOptions) {
		if !m.valid() {
			o.errs = append(o.errs, fmt.Errorf("unknown mode %d", uint8(m)))
		}
		o.mode = m
	}
}

// GraphMode sets the mode of every level without a StageMode of its own (default Auto),
// sources included. Levels pinned by Placement or CPUs run dedicated whatever it says.
func GraphMode(m Mode) GraphOption {
	return func(o *graphOptions) { o.mode = m }
}

// resolveModes fixes each level's mode from the options, its pinning and the host, and
// reports the combinations that cannot run. Auto counts every stage of the graph, and of the
// graphs already running, against the CPUs the process may use: each stage gets a core only
// if all of them do.
func (g *Graph) resolveModes(cpus map[*level][]int) error {
	if !g.opts.mode.valid() {
		return fmt.Errorf("flow: unknown graph mode %d", uint8(g.opts.mode))
	}
	stages := 0
	for _, lv := range g.levels {
		if lv.kind != kindInput {
			stages += width(lv)
		}
	}
	fits := stages+runningStages() <= g.allowedCPUs()
	var errs []error
	for _, lv := range g.levels {
		if lv.kind == kindInput {
			continue
		}
		m := lv.opts.mode
		if m == Auto {
			m = g.opts.mode
		}
		pinned := len(cpus[lv]) > 0 && cpus[lv][0] >= 0
		switch {
		case lv.opts.mode == Shared && pinned:
			errs = append(errs, fmt.Errorf("flow: level %q: a shared stage has no thread of its own to pin; drop its CPUs (or the placement) or run it dedicated", lv.name))
		case pinned:
			m = Dedicated
		case m == Auto && fits && poller.Supported():
			m = Dedicated
		case m == Auto:
			m = Shared
		}
		lv.mode = m
	}
	return errors.Join(errs...)
}

// allowedCPUs is how many CPUs the graph's stages may run on: the graph's topology where a
// test gave one, else the host's.
func (g *Graph) allowedCPUs() int {
	if g.opts.topology != nil {
		return len(g.opts.topology.CPUs)
	}
	return hostCPUs()
}

// hostCPUs is how many CPUs the process may run on: its affinity mask at start, else
// runtime.NumCPU.
var hostCPUs = sync.OnceValue(func() int {
	if cpus, err := affinity.Allowed(); err == nil && len(cpus) > 0 {
		return len(cpus)
	}
	return runtime.NumCPU()
})

// defaultGraphMode is the mode of a graph without GraphMode: Auto. The package's tests run
// their suite once per mode by changing it (export_test.go).
var defaultGraphMode = Auto
