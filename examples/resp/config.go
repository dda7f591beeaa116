package main

import (
	"time"

	"github.com/loopyring/loopyring/affinity"
)

// config is everything the flags set.
type config struct {
	addr         string
	mode         string // "graph" or "goroutines"
	listeners    int
	parsers      int
	workers      int
	repliers     int
	capacity     int
	placement    affinity.Policy
	cpus         []int
	lim          limits
	writeTimeout time.Duration // how long a client may leave its replies unread
	maxClients   int
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
		maxClients:   10000,
	}
}

// shardsPerWorker is how many store shards each worker owns. The parser picks a shard by
// hashing the key and KeyBy picks the worker by hashing the shard number; flow does not say
// which stage a key selects, so with one shard per worker two shards could land on one
// worker and leave another idle. Several shards per worker even that out, at the cost of
// more parts for DBSIZE and FLUSHALL, which touch every shard.
const shardsPerWorker = 8

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
