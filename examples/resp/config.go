package main

import (
	"runtime"
	"time"

	"github.com/loopyring/loopyring/affinity"
)

// config is everything the flags set.
type config struct {
	addr          string
	mode          string // "graph" or "goroutines"
	listeners     int
	parsers       int
	workers       int
	repliers      int
	capacity      int
	placement     affinity.Policy
	cpus          []int
	lim           limits
	writeTimeout  time.Duration // how long a client may leave its replies unread
	outLimit      outputLimit   // how much unread output a client may make the server hold
	maxClients    int
	timerSlack    time.Duration // the threads' timer slack, set by main (0: leave it)
	timerSlackSet bool          // -timer-slack was given on the command line
}

func defaultConfig() config {
	parsers, workers, repliers := defaultStages(runtime.GOMAXPROCS(0))
	return config{
		addr:         "127.0.0.1:6380",
		mode:         "graph",
		listeners:    1,
		parsers:      parsers,
		workers:      workers,
		repliers:     repliers,
		capacity:     8192,
		lim:          defaultLimits,
		writeTimeout: 10 * time.Second,
		outLimit:     defaultOutputLimit,
		maxClients:   10000,
		timerSlack:   time.Microsecond,
	}
}

// fullStages is the topology's stage count with more than one stage in the middle levels:
// one listener, two parsers, four workers and two repliers.
const fullStages = 1 + 2 + 4 + 2

// defaultStages gives the parse, work and reply levels' widths for a process that may run on
// cpus CPUs: the full topology where every stage can have a CPU, and one stage a level
// where it cannot. On a host with fewer CPUs than stages the stages share the CPUs, and each
// extra stage adds hand-offs and wakes without adding a CPU: on the 2-vCPU development VM
// one stage a level gave 1.01 to 1.23 times the requests per second of the full topology at
// -P 16, in 21 alternated pairs (see the README).
func defaultStages(cpus int) (parsers, workers, repliers int) {
	if cpus < fullStages {
		return 1, 1, 1
	}
	return 2, 4, 2
}

// shardsPerWorker is how many store shards each worker owns. The parser picks a shard by
// hashing the key, and PartitionBy sends shard s to worker s mod workers, so one shard per
// worker spreads the key space evenly; more would only add parts to DBSIZE and FLUSHALL,
// which touch every shard.
const shardsPerWorker = 1

// server is a running server in either mode.
type server interface {
	Addr() string
	Stop() error
}

// start starts the server that cfg.mode names.
func start(cfg config) (server, error) {
	if cfg.mode == "goroutines" {
		return startGoroutines(cfg)
	}
	return startGraph(cfg)
}

// readSize is how much a connection's read asks for at a time, in both modes.
const readSize = 16 << 10
