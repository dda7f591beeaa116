package main

import (
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
	return config{
		addr:         "127.0.0.1:6380",
		mode:         "graph",
		listeners:    1,
		parsers:      2,
		workers:      4,
		repliers:     2,
		capacity:     8192,
		lim:          defaultLimits,
		writeTimeout: 10 * time.Second,
		outLimit:     defaultOutputLimit,
		maxClients:   10000,
		timerSlack:   time.Microsecond,
	}
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
