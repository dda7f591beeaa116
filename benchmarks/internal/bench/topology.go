package bench

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/flow"
)

// Side says which implementation of a topology runs.
type Side int

const (
	// Loopy is the loopyring implementation: flow graphs, or one ring where the topology is
	// a single ring.
	Loopy Side = iota
	// Chan is the baseline: goroutines and buffered channels, with the same goroutine count
	// and as many buffered slots as the loopyring side's rings.
	Chan
)

// Sides lists both sides in the order runs alternate them.
var Sides = []Side{Loopy, Chan}

func (s Side) String() string {
	switch s {
	case Loopy:
		return "loopyring"
	case Chan:
		return "chan"
	}
	return fmt.Sprintf("Side(%d)", int(s))
}

// DefaultCapacity is the ring capacity (and channel buffer) of a zero Config: flow's own
// default. Smaller rings make stages sleep and wake more often, which costs a thread switch
// each time on a host with fewer cores than stages.
const DefaultCapacity = 8192

// DefaultWidths is the seed topology after its single source: 2, 4 and 2 stages.
var DefaultWidths = []int{2, 4, 2}

// Config is one run's parameters. The zero value runs nothing (N is 0) with the defaults.
type Config struct {
	N         int             // entries to publish, over all publishers
	Capacity  int             // ring capacity and channel buffer; 0 means DefaultCapacity
	Widths    []int           // stages per level after the seed's source; nil means DefaultWidths
	Placement affinity.Policy // CPU placement of the loopyring side's stages and goroutines
	Rate      int             // latency runs: entries per second offered (0: as fast as replies come)
	Mode      flow.Mode       // how flow runs the stages (flow.Auto by default)
	Spin      time.Duration   // flow stages' spin before sleeping; 0 keeps flow's default

	corrupt int64 // test hook: 1 + the seq the publisher writes wrong; 0 for none
}

func (c Config) capacity() int {
	if c.Capacity == 0 {
		return DefaultCapacity
	}
	return c.Capacity
}

func (c Config) widths() []int {
	if len(c.Widths) == 0 {
		return DefaultWidths
	}
	return c.Widths
}

func (c Config) validate() error {
	var errs []error
	if c.N < 1 {
		errs = append(errs, fmt.Errorf("entries %d: want at least 1", c.N))
	}
	if n := c.capacity(); n < 2 || n&(n-1) != 0 {
		errs = append(errs, fmt.Errorf("capacity %d: want a power of two, at least 2", n))
	}
	if w := c.widths(); len(w) < 1 || slices.Min(w) < 1 {
		errs = append(errs, fmt.Errorf("seed widths %v: want at least one level of at least one stage", w))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate %d: want 0 or more", c.Rate))
	}
	return errors.Join(errs...)
}

// A Topology is one benchmark shape, written once per side.
type Topology struct {
	Name  string // short, for tables and benchmark names: "unicast"
	About string // one line: "1 publisher → 1 reader"
	loopy func(Config, *meter) error
	chans func(Config, *meter) error
}

// Run runs one side of the topology with cfg and returns what its timed part measured. It
// fails if cfg is invalid or any entry did not verify.
func (t Topology) Run(side Side, cfg Config) (Result, error) {
	return t.run(side, cfg, nil)
}

func (t Topology) run(side Side, cfg Config, b stopwatch) (Result, error) {
	if err := cfg.validate(); err != nil {
		return Result{}, fmt.Errorf("%s/%s: %w", t.Name, side, err)
	}
	fn := t.loopy
	if side == Chan {
		fn = t.chans
	}
	m := &meter{b: b}
	if err := fn(cfg, m); err != nil {
		return m.res, fmt.Errorf("%s/%s: %w", t.Name, side, err)
	}
	return m.res, nil
}

var topologies = []Topology{
	{"unicast", "1 publisher → 1 reader (one ring)", unicastLoopy, unicastChan},
	{"pipeline", "1 publisher → 3 stages in a chain", pipelineLoopy, pipelineChan},
	{"multicast", "1 publisher → 3 readers that each see every entry", multicastLoopy, multicastChan},
	{"diamond", "1 publisher → 2 parallel readers → 1 reader after both", diamondLoopy, diamondChan},
	{"sequencer", "3 publishers → 1 reader", sequencerLoopy, sequencerChan},
	{"seed", "1 publisher → 2 → 4 → 2 stages, shared work at each level", seedLoopy, seedChan},
}

// Topologies returns every throughput topology, in the order of the tables.
func Topologies() []Topology { return slices.Clone(topologies) }

// Lookup returns the topology named name.
func Lookup(name string) (Topology, bool) {
	for _, t := range topologies {
		if t.Name == name {
			return t, true
		}
	}
	return Topology{}, false
}
