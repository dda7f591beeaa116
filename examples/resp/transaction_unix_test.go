//go:build linux || darwin || freebsd

package main

import (
	"strconv"
	"testing"
	"time"
)

// serverRouter returns the router of an in-process server, to pick keys by shard.
func serverRouter(s server) *router {
	switch s := s.(type) {
	case *graphServer:
		return s.rt
	case *goroutineServer:
		return s.rt
	}
	panic("resp test: unknown server type")
}

// serverStores returns the shards of an in-process server.
func serverStores(s server) []*store {
	switch s := s.(type) {
	case *graphServer:
		return s.stores
	case *goroutineServer:
		return s.stores
	}
	panic("resp test: unknown server type")
}

// TestWatchAcrossShards: a transaction whose watched and queued keys lie on several shards
// runs in the goroutine mode, which locks them all and checks every watched key before
// running anything, and aborts when a watched key on another shard than the written one
// changed. The graph refuses it with an error, and with it a transaction with WATCH that
// would change the connection's state (SELECT); either way the watched keys are forgotten.
func TestWatchAcrossShards(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		rt := serverRouter(s)
		a, b := "wa", ""
		for i := 0; b == ""; i++ {
			if k := "wb" + strconv.Itoa(i); rt.shardOf([]byte(k)) != rt.shardOf([]byte(a)) {
				b = k
			}
		}
		c, other := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
		c.send(mb("WATCH", a) + mb("MULTI") + mb("SET", b, "1") + mb("EXEC") + mb("GET", b))
		if rt.seq != nil {
			c.expect("+OK\r\n+OK\r\n+QUEUED\r\n" + string(errWatchShards) + "$-1\r\n")
		} else {
			c.expect("+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n$1\r\n1\r\n")
		}
		c.send(mb("WATCH", a, b))
		c.expect("+OK\r\n")
		other.send(mb("SET", a, "x"))
		other.expect("+OK\r\n")
		c.send(mb("MULTI") + mb("SET", b, "2") + mb("EXEC") + mb("GET", b))
		if rt.seq != nil {
			c.expect("+OK\r\n+QUEUED\r\n" + string(errWatchShards) + "$-1\r\n")
		} else {
			c.expect("+OK\r\n+QUEUED\r\n*-1\r\n$1\r\n1\r\n")
		}
		c.send(mb("WATCH", a) + mb("MULTI") + mb("SELECT", "1") + mb("EXEC") + mb("SET", a, "y") + mb("MULTI") + mb("GET", a) + mb("EXEC"))
		c.expect("+OK\r\n+OK\r\n+QUEUED\r\n" + string(errWatchState) + "+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n$1\r\ny\r\n")
	})
}

// TestWatchForgottenOnClose: a connection that watches keys on every shard and closes
// leaves no watch behind on any shard.
func TestWatchForgottenOnClose(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		c := dialRaw(t, s.Addr())
		var keys []string
		for i := range 32 {
			keys = append(keys, "wk"+strconv.Itoa(i))
		}
		c.send(mb(append([]string{"WATCH"}, keys...)...) + mb("SELECT", "3") + mb(append([]string{"WATCH"}, keys...)...))
		c.expect("+OK\r\n+OK\r\n+OK\r\n")
		c.nc.Close()
		time.Sleep(200 * time.Millisecond) // the server sees the end of the connection
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		for i, st := range serverStores(s) {
			if len(st.watchers) != 0 {
				t.Errorf("shard %d: %d connections still watch keys", i, len(st.watchers))
			}
			for db := range st.dbs {
				if n := len(st.dbs[db].watched); n != 0 {
					t.Errorf("shard %d, database %d: %d keys still watched", i, db, n)
				}
			}
		}
	})
}
