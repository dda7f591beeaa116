package main

import "slices"

// WATCH on a shard. Each shard keeps, for every connection that watches keys it holds, the
// keys and whether one has changed since: a write to a watched key (a SET, INCR, DEL,
// EXPIRE that takes effect, a FLUSHALL or FLUSHDB of a key that was there, the deletion of
// an expired key) marks its watchers, as Redis's touchWatchedKey does. EXEC's part on the
// shard checks the mark before it runs anything and forgets the connection's keys. The
// maps belong to the shard's worker in the graph and are guarded by the shard's lock in
// goroutine mode, like the keys themselves.

// watcher is one connection's watch on one shard.
type watcher struct {
	dirty bool // a watched key has changed since it was watched
	keys  []watchedKey
}

type watchedKey struct {
	db  uint8
	key string
}

// watch adds key to what c watches on this shard. A key that has expired is deleted first
// (which marks its other watchers, as its lazy deletion would), so that its expiry does not
// count as a change later.
func (s *store) watch(c *conn, db uint8, key []byte, clk *clock) {
	w := s.watchers[c]
	if w == nil {
		if s.watchers == nil {
			s.watchers = make(map[*conn]*watcher)
		}
		w = &watcher{}
		s.watchers[c] = w
	}
	for _, k := range w.keys {
		if k.db == db && k.key == string(key) {
			return // watched already
		}
	}
	ks := s.db(db)
	ks.get(key, clk)
	k := string(key)
	if ks.watched == nil {
		ks.watched = make(map[string][]*watcher)
	}
	ks.watched[k] = append(ks.watched[k], w)
	w.keys = append(w.keys, watchedKey{db: db, key: k})
}

// watchDirty reports whether a key c watches on this shard has changed, counting a key
// that has expired since as changed (its deletion here marks it), as Redis does.
func (s *store) watchDirty(c *conn) bool {
	w := s.watchers[c]
	if w == nil {
		return false
	}
	var clk clock
	for _, k := range w.keys {
		s.db(k.db).get([]byte(k.key), &clk)
	}
	return w.dirty
}

// unwatch forgets every key c watches on this shard.
func (s *store) unwatch(c *conn) {
	w := s.watchers[c]
	if w == nil {
		return
	}
	for _, k := range w.keys {
		ks := s.db(k.db)
		ws := ks.watched[k.key]
		if i := slices.Index(ws, w); i >= 0 {
			ws = slices.Delete(ws, i, i+1)
		}
		if len(ws) == 0 {
			delete(ks.watched, k.key)
		} else {
			ks.watched[k.key] = ws
		}
	}
	delete(s.watchers, c)
}

// touch marks the watchers of key: it has changed.
func (ks *keyspace) touch(key string) {
	for _, w := range ks.watched[key] {
		w.dirty = true
	}
}
