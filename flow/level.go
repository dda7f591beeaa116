package flow

import (
	"fmt"
	"sync/atomic"

	"github.com/loopyring/loopyring/ring"
)

// MaxStages bounds the stages of one level. A stage costs a goroutine and, for a processing
// level, a ring; a dedicated one also an OS thread and an event loop's descriptors. Start
// checks every width against it before it allocates anything, so that a mistaken width
// (1<<40) is a build error rather than an out-of-memory crash.
const MaxStages = 1 << 12

type levelKind uint8

const (
	kindInput   levelKind = iota // rings written by external publishers; no stages
	kindSource                   // stages that do their own I/O and publish
	kindProcess                  // map, filter, expand, batch: read, compute, publish
	kindPhase                    // a handler over an upstream ring, in place, no output ring
	kindSink                     // read and consume; no output ring
)

func (k levelKind) String() string {
	return [...]string{"input", "source", "then", "phase", "sink"}[k]
}

// ownsRings reports whether the level publishes into rings of its own.
func (k levelKind) ownsRings() bool { return k == kindInput || k == kindSource || k == kindProcess }

// route says how a level divides what it reads from each upstream ring among its stages.
type route uint8

const (
	routeShared    route = iota // each entry to exactly one stage, dealt by sequence
	routeKey                    // each entry to the stage its key hashes to
	routeBroadcast              // every stage sees every entry
	routePartition              // each entry to the stage its partition function names
)

func (r route) String() string { return [...]string{"shared", "key", "broadcast", "partition"}[r] }

// edge is one attachment of a level to the rings of an upstream ring-owning level. after
// lists phases over those same rings that must release an entry before this level sees it.
type edge struct {
	from  *level
	after []*level
}

// level is the untyped description of one level; its typed behaviour lives in roles. The
// graph's core (compilation, the stage loop, lifecycle) is written once against this.
type level struct {
	g     *Graph
	id    int
	kind  levelKind
	n     int
	name  string
	opts  levelOptions
	in    []edge
	route route
	roles

	readBy int // edges, from any level, that read this level's rings

	// Built by Start.
	mode      Mode                        // Dedicated or Shared, resolved from the options and the host
	sinkBroke *atomic.Pointer[StageError] // ErrorSink policy: how the sink panicked or exited (one per policy per graph)
	rings     []ringHandle
	phaseRd   [][]*ring.Reader // for phases: per upstream edge, per ring: this phase's reader
	readers   [][]reader       // per ring: the ports that read it, for completion
	stages    []*stage
}

// ringHandle is the untyped view of a *ring.Buffer[T] that the core needs.
type ringHandle interface {
	NewReader(opts ...ring.ReaderOption) (*ring.Reader, error)
	WakeReaders() bool
	Close()
	Len() int
	Cap() int
}

// roles are a level's typed parts, built by the generic constructors. A level has the roles
// its kind plays and no others: the producer side (newRing, and bind for levels whose stages
// publish), the consumer side (port), and expose for an input's external publishers.
type roles struct {
	// newRing allocates one output ring; pw is what its publisher sleeps on when full.
	// Inputs, sources and processing levels.
	newRing func(capacity int, multi bool, pw ring.Waiter) (ringHandle, error)
	// bind makes the outbox through which stage st publishes into st.ring. Sources and
	// processing levels.
	bind func(st *stage) outbox
	// port builds the function that processes [lo, hi) of ring src for stage st; whole
	// reports that it takes each range as one unit (batch functions). Processing levels,
	// phases and sinks.
	port func(st *stage, src ringHandle) (run func(lo, hi int64), whole bool, err error)
	// expose lets external publishers use the ring, once every reader is attached. Inputs.
	expose func()
	// prepare makes what one stage of a level without an output ring keeps for its life,
	// before its ports are built (stateful sinks).
	prepare func(st *stage)
}

// outbox is the untyped side of a stage's Emitter that the stage loop drives.
type outbox interface {
	flush()           // commits every filled slot
	end()             // flush, then gives unfilled claimed slots back, before the ring closes
	committed() int64 // the sequence after the last committed entry
}

func (lv *level) String() string { return lv.name }

func (lv *level) describe() string {
	s := fmt.Sprintf("%s %q ×%d", lv.kind, lv.name, lv.n)
	if lv.kind.ownsRings() {
		s += fmt.Sprintf(" cap=%d", lv.opts.capacity)
	}
	if m := lv.shownMode(); m != "" {
		s += " " + m
	}
	return s
}

// shownMode is the level's mode for String and DOT: the one it runs in once Start has
// resolved it, else the one asked for; "" for inputs, which have no stages.
func (lv *level) shownMode() string {
	switch {
	case lv.kind == kindInput:
		return ""
	case lv.mode != Auto:
		return lv.mode.String()
	case lv.opts.mode != Auto:
		return lv.opts.mode.String()
	}
	return ""
}
