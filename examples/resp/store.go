package main

import (
	"sync"
	"time"
)

// item is a stored value. val is never written after it is stored: a new value replaces
// the item, so a reply may keep referring to the old one while a replier writes it out.
type item struct {
	val []byte
	exp int64 // deadline in Unix milliseconds, as Redis keeps it; 0: none
}

// store is one shard of the key space. In the graph, one worker stage owns each shard (the
// parser routes every key's requests to the same stage), so the map needs no lock; mu is
// taken only in goroutine mode, where any connection's goroutine may run any shard.
type store struct {
	mu sync.Mutex
	m  map[string]item
}

func newStore() *store { return &store{m: make(map[string]item)} }

// clock reads the time at most once per request, and only for requests that need it.
type clock struct{ t int64 }

// now returns the Unix time in milliseconds.
func (c *clock) now() int64 {
	if c.t == 0 {
		c.t = time.Now().UnixMilli()
	}
	return c.t
}

// get returns the live item under key, deleting it if it has expired. Expiry is lazy, as
// Redis's is on access; DBSIZE sweeps the rest.
func (s *store) get(key []byte, clk *clock) (item, bool) {
	it, ok := s.m[string(key)]
	if !ok {
		return item{}, false
	}
	if it.exp != 0 && it.exp <= clk.now() {
		delete(s.m, string(key))
		return item{}, false
	}
	return it, true
}

func (s *store) set(key []byte, it item) { s.m[string(key)] = it }

func (s *store) del(key []byte) { delete(s.m, string(key)) }

// size sweeps expired items and counts the rest.
func (s *store) size(clk *clock) int64 {
	n := int64(0)
	for k, it := range s.m {
		if it.exp != 0 && it.exp <= clk.now() {
			delete(s.m, k)
			continue
		}
		n++
	}
	return n
}

func (s *store) flush() { clear(s.m) }
