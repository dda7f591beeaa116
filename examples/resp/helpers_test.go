package main

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// modes are the two servers every client-facing test runs against.
var modes = []string{"graph", "goroutines"}

// startServer starts a server in-process on a free loopback port; it is stopped when the
// test ends.
func startServer(t testing.TB, mode string, tweak func(*config)) server {
	t.Helper()
	cfg := defaultConfig()
	cfg.addr = "127.0.0.1:0"
	cfg.mode = mode
	cfg.capacity = 1024
	// The full topology whatever the host, so that commands span shards and the stages of a
	// level share rings: a small host's default (one stage a level) would test neither.
	cfg.parsers, cfg.workers, cfg.repliers = 2, 4, 2
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := start(cfg)
	if err != nil {
		t.Fatalf("start %s server: %v", mode, err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return s
}

// newClient connects go-redis with its defaults (HELLO 3 first) or with RESP2 asked for.
func newClient(t testing.TB, addr string, protocol int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, Protocol: protocol, PoolSize: 4, ReadTimeout: 10 * time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// forModes runs f as a subtest against each mode's server.
func forModes(t *testing.T, tweak func(*config), f func(t *testing.T, s server)) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { f(t, startServer(t, mode, tweak)) })
	}
}
