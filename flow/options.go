package flow

import (
	"fmt"
	"time"

	"github.com/loopyring/loopyring/affinity"
)

const (
	defaultCapacity = 8192
	defaultMaxBatch = 256
	defaultSpin     = 20 * time.Microsecond
)

// An Option configures one level.
type Option func(*levelOptions)

type levelOptions struct {
	name     string
	capacity int
	maxBatch int
	spin     time.Duration
	mode     Mode
	policy   ErrorPolicy
	cpus     []int
	errs     []error // option values that are invalid; reported by Start with the rest
}

func defaultLevelOptions() levelOptions {
	return levelOptions{capacity: defaultCapacity, maxBatch: defaultMaxBatch, spin: defaultSpin}
}

// Name names the level in errors, stats and descriptions. Names must be unique in a graph;
// unnamed levels are called after their kind and position ("then#2").
func Name(name string) Option { return func(o *levelOptions) { o.name = name } }

// Capacity sets the size of each of the level's output rings: a power of two, at least 2.
// The default is 8192. A sink or a phase owns no ring, so there it has no effect, but Start
// still refuses a bad value. Larger rings let stages trade larger batches and sleep less often,
// which matters most when a graph has more stages than the host has cores: each sleep and
// wake is then a thread switch. The cost is memory: Capacity × the entry size per stage.
// A slot keeps the last entry written to it until the stage writes the slot again, so what
// entries point to (buffers, strings) stays reachable for up to Capacity entries after every
// level has taken them; a graph that carries large values behind pointers and then goes
// quiet holds that much.
func Capacity(n int) Option { return func(o *levelOptions) { o.capacity = n } }

// MaxBatch bounds how many entries a stage takes from one input ring in one batch (default
// 256). Larger batches amortise more; smaller ones interleave fan-in inputs more finely.
func MaxBatch(n int) Option {
	return func(o *levelOptions) {
		if n < 1 {
			o.errs = append(o.errs, fmt.Errorf("max batch %d is below 1", n))
		}
		o.maxBatch = n
	}
}

// Spin sets how long an idle stage keeps polling its inputs before it sleeps (default
// 20µs). It spins only while the process has a spare core: every spinning stage takes one
// from a budget of the allowed CPUs less the stages of all running graphs, so on a host with
// fewer cores than stages nobody spins and an idle stage sleeps at once. A shared stage that
// has just woken a sleeping reader does not spin either: on a shared processor the reader
// runs only once it sleeps. Zero never spins.
func Spin(d time.Duration) Option {
	return func(o *levelOptions) {
		if d < 0 {
			o.errs = append(o.errs, fmt.Errorf("spin %v is negative", d))
		}
		o.spin = d
	}
}

// GraphSpin sets the spin of every level without a Spin of its own (default 20µs); see
// Spin and SetSpinCores.
func GraphSpin(d time.Duration) GraphOption {
	return func(o *graphOptions) { o.spin, o.spinSet = d, true }
}

// OnError sets the level's error policy: StopGraph (the default), Skip, or ErrorSink(fn).
func OnError(p ErrorPolicy) Option {
	return func(o *levelOptions) {
		if p.sink != nil && p.sink.fn == nil {
			o.errs = append(o.errs, fmt.Errorf("nil error sink"))
		}
		o.policy = p
	}
}

// invalid returns opts with misuse of a level's constructor (a nil function) added as one
// of the level's problems, so that Start names the level. It returns a new slice: opts may
// be the caller's variadic slice, which an append could write into.
func invalid(opts []Option, format string, args ...any) []Option {
	err := fmt.Errorf(format, args...)
	return append([]Option{func(o *levelOptions) { o.errs = append(o.errs, err) }}, opts...)
}

// CPUs pins the level's stages to the given CPUs, stage i to cpus[i % len(cpus)], overriding
// the graph's placement policy for this level.
func CPUs(cpus ...int) Option {
	return func(o *levelOptions) {
		if len(cpus) == 0 {
			o.errs = append(o.errs, fmt.Errorf("empty CPU list"))
		}
		for _, c := range cpus {
			if c < 0 {
				o.errs = append(o.errs, fmt.Errorf("negative CPU %d", c))
			}
		}
		o.cpus = append([]int(nil), cpus...)
	}
}

// A GraphOption configures a whole graph.
type GraphOption func(*graphOptions)

type graphOptions struct {
	fixedProcs bool
	mode       Mode
	spin       time.Duration
	spinSet    bool
	placement  affinity.Policy
	explicit   []int
	topology   *affinity.Topology // the host's CPUs, for tests; nil reads the real ones
}

// Placement pins every stage under policy: affinity.Compact, affinity.Spread, or
// affinity.Explicit with the CPUs to cycle through. The default, affinity.None, leaves the
// scheduler free. Levels with their own CPUs option keep it.
func Placement(policy affinity.Policy, cpus ...int) GraphOption {
	return func(o *graphOptions) {
		o.placement = policy
		o.explicit = append([]int(nil), cpus...)
	}
}

// FixedGOMAXPROCS leaves GOMAXPROCS as it is. By default Start raises it by the graph's
// dedicated stages while the graph runs, so that every dedicated stage's locked thread can
// hold a P and run when it is woken (see the package doc); with this option, dedicated
// stages beyond GOMAXPROCS take turns.
func FixedGOMAXPROCS() GraphOption { return func(o *graphOptions) { o.fixedProcs = true } }
