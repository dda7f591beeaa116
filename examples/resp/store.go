package main

import (
	"bytes"
	"sync"
	"time"
	"unsafe"
)

// item is a stored value. val is never written after it is stored: a new value replaces
// the item, so a reply may keep referring to the old one while a replier writes it out.
type item struct {
	val []byte
	exp int64 // deadline in Unix milliseconds, as Redis keeps it; 0: none
}

// numDBs is how many databases SELECT chooses from, Redis's default ("databases 16").
const numDBs = 16

// store is one shard of the key space of every database. In the graph, one worker stage
// owns each shard (the parser routes every key's requests to the same stage), so the maps
// need no lock; mu is taken only in goroutine mode, where any connection's goroutine may run
// any shard.
type store struct {
	mu        sync.Mutex
	dbs       [numDBs]keyspace
	watchers  map[*conn]*watcher // the connections that watch keys of this shard (watch.go)
	maxString int                // the longest value APPEND may make: -max-bulk, as Redis's proto-max-bulk-len bounds it
}

// keyspace is one database's part of a shard; its map is made when a key is first set.
type keyspace struct {
	m       map[string]item
	watched map[string][]*watcher // by key: the connections that watch it (watch.go)
}

// newStore returns an empty shard whose values APPEND may grow to maxString bytes.
func newStore(maxString int) *store { return &store{maxString: maxString} }

// db returns database i's part of the shard; the parser checked i (SELECT).
func (s *store) db(i uint8) *keyspace { return &s.dbs[i] }

// flushAll empties every database.
func (s *store) flushAll() {
	for i := range s.dbs {
		s.dbs[i].flush()
	}
}

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
// Redis's is on access; DBSIZE sweeps the rest. A key lives through the millisecond of its
// deadline and expires after it, as in Redis (keyIsExpired: now > when).
func (s *keyspace) get(key []byte, clk *clock) (item, bool) {
	it, ok := s.m[string(key)]
	if !ok {
		return item{}, false
	}
	if it.exp != 0 && it.exp < clk.now() {
		s.del(key)
		return item{}, false
	}
	return it, true
}

// setShared and del mark the key's watchers; the check costs a length when nobody watches.
//
// setShared stores it under key's bytes themselves, which nothing may change afterwards:
// those of a request's arguments (copyArgs gives each request one allocation of its own),
// or of a buffer made for the item. A request's value then lies beside its key, so that the
// lookup that compares the key has brought in the value's line too, and a SET allocates
// nothing for its key; the request's other bytes (the command's name, its options) stay
// with the item.
func (s *keyspace) setShared(key []byte, it item) {
	if s.m == nil {
		s.m = make(map[string]item)
	}
	k := ""
	if len(key) > 0 {
		k = unsafe.String(&key[0], len(key))
	}
	s.m[k] = it
	if len(s.watched) > 0 {
		s.touch(k)
	}
}

// keyedItem returns an item for key whose value is the bytes of vals one after another,
// key and value copied into one allocation, and the key's bytes in it, for setShared: an
// MSET's pairs must not keep the whole request alive, which one of them would while its
// value pointed into it, and an INCR's or APPEND's new value takes one allocation with its
// key.
func keyedItem(key []byte, exp int64, vals ...[]byte) ([]byte, item) {
	n := len(key)
	for _, v := range vals {
		n += len(v)
	}
	buf := append(make([]byte, 0, n), key...)
	for _, v := range vals {
		buf = append(buf, v...)
	}
	return buf[:len(key):len(key)], item{val: buf[len(key):], exp: exp}
}

// setKeyCopy stores it under a copy of key, for a command that changes an item's deadline
// and not its value: the map takes the key given on every store, and the request's other
// bytes are not the item's (SET's are: its value is among them), so storing the request's
// key would keep the whole request alive.
func (s *keyspace) setKeyCopy(key []byte, it item) { s.setShared(bytes.Clone(key), it) }

func (s *keyspace) del(key []byte) {
	delete(s.m, string(key))
	if len(s.watched) > 0 {
		s.touch(string(key))
	}
}

// size sweeps expired items and counts the rest.
func (s *keyspace) size(clk *clock) int64 {
	n := int64(0)
	for k, it := range s.m {
		if it.exp != 0 && it.exp < clk.now() {
			delete(s.m, k)
			s.touch(k)
			continue
		}
		n++
	}
	return n
}

// flush empties the database, marking the watchers of the keys that were there.
func (s *keyspace) flush() {
	for k := range s.watched {
		if _, ok := s.m[k]; ok {
			s.touch(k)
		}
	}
	clear(s.m)
}
