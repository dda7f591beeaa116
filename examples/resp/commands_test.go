package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// step is one command and what it must answer: a value printed with %v (want3 instead in
// RESP3, where it differs), or an error that contains errSub. Steps run in order on one
// connection, so later ones see earlier effects.
type step struct {
	args   []any
	want   string
	want3  string
	errSub string
}

var commandSteps = []step{
	{args: []any{"PING"}, want: "PONG"},
	{args: []any{"ping", "hi"}, want: "hi"},
	{args: []any{"ECHO", "hello world"}, want: "hello world"},
	{args: []any{"SET", "k", "v1"}, want: "OK"},
	{args: []any{"GET", "k"}, want: "v1"},
	{args: []any{"GET", "missing"}, errSub: "redis: nil"},
	{args: []any{"SET", "k", "v2", "NX"}, errSub: "redis: nil"},
	{args: []any{"SET", "fresh", "f", "NX"}, want: "OK"},
	{args: []any{"SET", "k", "v3", "XX"}, want: "OK"},
	{args: []any{"GET", "k"}, want: "v3"},
	{args: []any{"SET", "nokey", "x", "XX"}, errSub: "redis: nil"},
	{args: []any{"SET", "k", "v", "NX", "XX"}, errSub: "syntax error"},
	{args: []any{"SET", "k", "v", "EX", "0"}, errSub: "invalid expire time"},
	{args: []any{"SET", "k", "v", "EX", "soon"}, errSub: "not an integer"},
	{args: []any{"SET", "k", "v", "EX"}, errSub: "syntax error"},
	{args: []any{"SET", "e", "v", "EX", "100"}, want: "OK"},
	{args: []any{"TTL", "e"}, want: "100"},
	{args: []any{"SET", "e", "w", "KEEPTTL"}, want: "OK"},
	{args: []any{"TTL", "e"}, want: "100"},
	{args: []any{"SET", "p", "v", "PX", "250000"}, want: "OK"},
	{args: []any{"TTL", "p"}, want: "250"},
	{args: []any{"SET", "p", "v"}, want: "OK"},
	{args: []any{"TTL", "p"}, want: "-1"},
	{args: []any{"TTL", "missing"}, want: "-2"},
	{args: []any{"EXPIRE", "p", "50"}, want: "1"},
	{args: []any{"TTL", "p"}, want: "50"},
	{args: []any{"EXPIRE", "missing", "50"}, want: "0"},
	{args: []any{"EXPIRE", "p", "-1"}, want: "1"},
	{args: []any{"GET", "p"}, errSub: "redis: nil"},
	{args: []any{"EXPIRE", "k", "x"}, errSub: "not an integer"},
	{args: []any{"INCR", "n"}, want: "1"},
	{args: []any{"INCRBY", "n", "41"}, want: "42"},
	{args: []any{"DECR", "n"}, want: "41"},
	{args: []any{"DECRBY", "n", "50"}, want: "-9"},
	{args: []any{"GET", "n"}, want: "-9"},
	{args: []any{"INCR", "k"}, errSub: "not an integer"},
	{args: []any{"INCRBY", "n", "1.5"}, errSub: "not an integer"},
	{args: []any{"SET", "big", "9223372036854775807"}, want: "OK"},
	{args: []any{"INCR", "big"}, errSub: "overflow"},
	{args: []any{"FLUSHALL"}, want: "OK"},
	{args: []any{"DBSIZE"}, want: "0"},
	{args: []any{"MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6"}, want: "OK"},
	{args: []any{"MGET", "f", "a", "nope", "c", "b", "e", "d", "a"}, want: "[6 1 <nil> 3 2 5 4 1]"},
	{args: []any{"DBSIZE"}, want: "6"},
	{args: []any{"EXISTS", "a", "b", "nope", "a"}, want: "3"},
	{args: []any{"DEL", "a", "b", "nope", "a"}, want: "2"},
	{args: []any{"EXISTS", "a", "b"}, want: "0"},
	{args: []any{"DBSIZE"}, want: "4"},
	{args: []any{"MSET", "a", "1", "b"}, errSub: "wrong number of arguments for 'mset'"},
	{args: []any{"FLUSHALL", "ASYNC"}, want: "OK"},
	{args: []any{"FLUSHALL", "NOW"}, errSub: "syntax error"},
	{args: []any{"DBSIZE"}, want: "0"},
	{args: []any{"GET"}, errSub: "wrong number of arguments for 'get'"},
	{args: []any{"GET", "a", "b"}, errSub: "wrong number of arguments for 'get'"},
	{args: []any{"NOSUCH", "x"}, errSub: "unknown command 'NOSUCH'"},
	{args: []any{"PING"}, want: "PONG"},
	{args: []any{"SELECT", "0"}, want: "OK"},
	{args: []any{"SELECT", "16"}, errSub: "DB index is out of range"},
	{args: []any{"SELECT", "-1"}, errSub: "DB index is out of range"},
	{args: []any{"SELECT", "2147483648"}, errSub: "value is out of range, value must between -2147483648 and 2147483647"},
	{args: []any{"SELECT", "-2147483649"}, errSub: "value is out of range, value must between"},
	{args: []any{"COMMAND", "COUNT"}, want: fmt.Sprint(len(commandList))},
	{args: []any{"COMMAND", "DOCS"}, want: "[]", want3: "map[]"},
	{args: []any{"CLIENT", "SETNAME", "me"}, want: "OK"},
	{args: []any{"CLIENT", "GETNAME"}, want: "me"},
	{args: []any{"CLIENT", "KILL"}, errSub: "unknown subcommand"},
	{args: []any{"HELLO", "4"}, errSub: "NOPROTO"},
	{args: []any{"HELLO", "x"}, errSub: "not an integer"},
	{args: []any{"CONFIG", "GET", "save"}, want: "[save ]", want3: "map[save:]"},
	// SET's options as Redis 7 takes them (each step checked against redis-server 7.0):
	// a repeated option counts its last value, conflicting ones are a syntax error.
	{args: []any{"SET", "so", "v", "EX", "10", "EX", "20"}, want: "OK"},
	{args: []any{"TTL", "so"}, want: "20"},
	{args: []any{"SET", "so", "v", "PX", "10000", "EX", "20"}, errSub: "syntax error"},
	{args: []any{"SET", "so", "v", "EX", "10", "PX", "20000"}, errSub: "syntax error"},
	{args: []any{"SET", "so", "v", "NX", "NX"}, errSub: "redis: nil"},
	{args: []any{"SET", "so", "v", "XX", "XX"}, want: "OK"},
	{args: []any{"SET", "so", "v", "NX", "XX"}, errSub: "syntax error"},
	{args: []any{"SET", "so", "v", "EX", "10", "KEEPTTL"}, errSub: "syntax error"},
	{args: []any{"SET", "so", "v", "KEEPTTL", "EX", "10"}, errSub: "syntax error"},
	{args: []any{"SET", "so", "v", "EX", "30"}, want: "OK"},
	{args: []any{"SET", "so", "v", "KEEPTTL", "KEEPTTL"}, want: "OK"},
	{args: []any{"TTL", "so"}, want: "30"},
	{args: []any{"SET", "so", "v", "EXAT", "0"}, errSub: "invalid expire time in 'set'"},
	{args: []any{"SET", "so", "v", "PX", "-5"}, errSub: "invalid expire time in 'set'"},
	{args: []any{"SET", "so", "v", "EXAT", "99999999999999999"}, errSub: "invalid expire time in 'set'"},
	{args: []any{"SET", "so", "v", "EXAT", "10", "PXAT", "20000000000000"}, errSub: "syntax error"},
	{args: []any{"SET", "so", "v", "EX", "x", "BLAH"}, errSub: "syntax error"},
	{args: []any{"SET", "so", "v", "EX", "x"}, errSub: "not an integer"},
	{args: []any{"SET", "so", "v", "EX", "10", "EX"}, errSub: "syntax error"},
	{args: []any{"SET", "sg", "v1"}, want: "OK"},
	{args: []any{"SET", "sg", "v2", "GET"}, want: "v1"},
	{args: []any{"SET", "sg", "v3", "NX", "GET"}, want: "v2"},
	{args: []any{"GET", "sg"}, want: "v2"},
	{args: []any{"SET", "sg", "v", "GET", "GET"}, want: "v2"},
	{args: []any{"SET", "sn", "v", "NX", "GET"}, errSub: "redis: nil"},
	{args: []any{"GET", "sn"}, want: "v"},
	{args: []any{"SET", "sn", "w", "XX", "GET", "PX", "100000", "PX", "200000"}, want: "v"},
	{args: []any{"TTL", "sn"}, want: "200"},
	// EXPIRE's conditions, checked against redis-server 7.0 the same way.
	{args: []any{"SET", "x", "v"}, want: "OK"},
	{args: []any{"EXPIRE", "x", "100", "XX"}, want: "0"},
	{args: []any{"TTL", "x"}, want: "-1"},
	{args: []any{"EXPIRE", "x", "100", "NX"}, want: "1"},
	{args: []any{"TTL", "x"}, want: "100"},
	{args: []any{"EXPIRE", "x", "50", "NX"}, want: "0"},
	{args: []any{"EXPIRE", "x", "50", "GT"}, want: "0"},
	{args: []any{"EXPIRE", "x", "200", "GT"}, want: "1"},
	{args: []any{"TTL", "x"}, want: "200"},
	{args: []any{"EXPIRE", "x", "300", "LT"}, want: "0"},
	{args: []any{"EXPIRE", "x", "150", "lt"}, want: "1"},
	{args: []any{"TTL", "x"}, want: "150"},
	{args: []any{"EXPIRE", "x", "10", "NX", "XX"}, errSub: "NX and XX, GT or LT options at the same time are not compatible"},
	{args: []any{"EXPIRE", "x", "10", "lt", "gt", "nx"}, errSub: "NX and XX, GT or LT options at the same time are not compatible"},
	{args: []any{"EXPIRE", "x", "10", "GT", "LT"}, errSub: "GT and LT options at the same time are not compatible"},
	{args: []any{"EXPIRE", "x", "10", "XX", "GT"}, want: "0"},
	{args: []any{"EXPIRE", "x", "10", "FOO"}, errSub: "Unsupported option FOO"},
	{args: []any{"EXPIRE", "x", "x", "FOO"}, errSub: "Unsupported option FOO"},
	{args: []any{"EXPIRE", "x", "x", "NX"}, errSub: "not an integer"},
	{args: []any{"EXPIRE", "x", "10", "XX", "XX"}, want: "1"},
	{args: []any{"TTL", "x"}, want: "10"},
	{args: []any{"EXPIRE", "x", "9223372036854775"}, errSub: "invalid expire time in 'expire'"},
	{args: []any{"SET", "y", "v"}, want: "OK"},
	{args: []any{"EXPIRE", "y", "10", "GT"}, want: "0"},
	{args: []any{"EXPIRE", "y", "10", "LT"}, want: "1"},
	{args: []any{"TTL", "y"}, want: "10"},
	{args: []any{"SET", "z", "v"}, want: "OK"},
	{args: []any{"EXPIRE", "z", "-1", "GT"}, want: "0"},
	{args: []any{"EXISTS", "z"}, want: "1"},
	{args: []any{"EXPIRE", "z", "-1", "LT"}, want: "1"},
	{args: []any{"EXISTS", "z"}, want: "0"},
	{args: []any{"EXPIRE", "missing", "10", "NX"}, want: "0"},
	{args: []any{"PEXPIRE", "x", "5000", "GT"}, want: "0"},
	{args: []any{"PEXPIRE", "x", "5000", "LT"}, want: "1"},
	// String and key commands beyond SET and GET, checked against redis-server 7.0.15.
	{args: []any{"SETNX", "nx1", "a"}, want: "1"},
	{args: []any{"SETNX", "nx1", "b"}, want: "0"},
	{args: []any{"GET", "nx1"}, want: "a"},
	{args: []any{"SETEX", "se", "100", "v"}, want: "OK"},
	{args: []any{"TTL", "se"}, want: "100"},
	{args: []any{"SETEX", "se", "0", "v"}, errSub: "invalid expire time in 'setex'"},
	{args: []any{"SETEX", "se", "x", "v"}, errSub: "not an integer"},
	{args: []any{"PSETEX", "pse", "100000", "v"}, want: "OK"},
	{args: []any{"TTL", "pse"}, want: "100"},
	{args: []any{"PSETEX", "pse", "-1", "v"}, errSub: "invalid expire time in 'psetex'"},
	{args: []any{"GETSET", "se", "w"}, want: "v"},
	{args: []any{"TTL", "se"}, want: "-1"},
	{args: []any{"GETSET", "gs1", "x"}, errSub: "redis: nil"},
	{args: []any{"GETDEL", "gs1"}, want: "x"},
	{args: []any{"EXISTS", "gs1"}, want: "0"},
	{args: []any{"GETDEL", "gs1"}, errSub: "redis: nil"},
	{args: []any{"APPEND", "ap", "hello"}, want: "5"},
	{args: []any{"APPEND", "ap", " world"}, want: "11"},
	{args: []any{"GET", "ap"}, want: "hello world"},
	{args: []any{"STRLEN", "ap"}, want: "11"},
	{args: []any{"STRLEN", "nothere"}, want: "0"},
	{args: []any{"APPEND", "empty", ""}, want: "0"},
	{args: []any{"GET", "empty"}, want: ""},
	{args: []any{"SET", "ap2", "v", "EX", "100"}, want: "OK"},
	{args: []any{"APPEND", "ap2", "w"}, want: "2"},
	{args: []any{"TTL", "ap2"}, want: "100"},
	{args: []any{"TYPE", "ap"}, want: "string"},
	{args: []any{"TYPE", "nothere"}, want: "none"},
	{args: []any{"PERSIST", "ap2"}, want: "1"},
	{args: []any{"TTL", "ap2"}, want: "-1"},
	{args: []any{"PERSIST", "ap2"}, want: "0"},
	{args: []any{"PERSIST", "nothere"}, want: "0"},
	{args: []any{"GETEX", "ap2", "EX", "50"}, want: "vw"},
	{args: []any{"TTL", "ap2"}, want: "50"},
	{args: []any{"GETEX", "ap2", "PERSIST"}, want: "vw"},
	{args: []any{"TTL", "ap2"}, want: "-1"},
	{args: []any{"GETEX", "ap2", "EX", "10", "PERSIST"}, errSub: "syntax error"},
	{args: []any{"GETEX", "ap2", "PERSIST", "EX", "10"}, errSub: "syntax error"},
	{args: []any{"GETEX", "ap2", "EX", "10", "PX", "100"}, errSub: "syntax error"},
	{args: []any{"GETEX", "ap2", "KEEPTTL"}, errSub: "syntax error"},
	{args: []any{"GETEX", "ap2", "EX"}, errSub: "syntax error"},
	{args: []any{"GETEX", "ap2", "EX", "10", "EX", "20"}, want: "vw"},
	{args: []any{"TTL", "ap2"}, want: "20"},
	{args: []any{"GETEX", "nothere", "EX", "0"}, errSub: "redis: nil"},
	{args: []any{"GETEX", "ap2", "EX", "0"}, errSub: "invalid expire time in 'getex'"},
	{args: []any{"GETEX", "ap2", "EX", "x"}, errSub: "not an integer"},
	{args: []any{"GETEX", "ap2", "EXAT", "1"}, want: "vw"},
	{args: []any{"EXISTS", "ap2"}, want: "0"},
	{args: []any{"GETEX", "ap"}, want: "hello world"},
	{args: []any{"SET", "ea", "v"}, want: "OK"},
	{args: []any{"EXPIREAT", "ea", "1"}, want: "1"},
	{args: []any{"EXISTS", "ea"}, want: "0"},
	{args: []any{"SET", "ea", "v"}, want: "OK"},
	{args: []any{"EXPIREAT", "ea", "99999999999"}, want: "1"},
	{args: []any{"EXPIRETIME", "ea"}, want: "99999999999"},
	{args: []any{"PEXPIRETIME", "ea"}, want: "99999999999000"},
	{args: []any{"EXPIREAT", "ea", "99999999999", "NX"}, want: "0"},
	{args: []any{"PEXPIREAT", "ea", "99999999999001", "GT"}, want: "1"},
	{args: []any{"PEXPIRETIME", "ea"}, want: "99999999999001"},
	{args: []any{"EXPIRETIME", "ea"}, want: "99999999999"},
	{args: []any{"EXPIRETIME", "ap"}, want: "-1"},
	{args: []any{"EXPIRETIME", "nothere"}, want: "-2"},
	{args: []any{"EXPIREAT", "ea", "9223372036854776"}, errSub: "invalid expire time in 'expireat'"},
	{args: []any{"EXPIREAT", "ea", "x"}, errSub: "not an integer"},
	{args: []any{"SETNX", "k"}, errSub: "wrong number of arguments for 'setnx'"},
}

// TestSetAbsoluteExpiry checks SET's EXAT and PXAT, whose answers depend on the clock.
func TestSetAbsoluteExpiry(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		c := newClient(t, s.Addr(), 2)
		now := time.Now()
		do := func(args ...any) any {
			t.Helper()
			v, err := c.Do(ctx, args...).Result()
			if err != nil && err != redis.Nil {
				t.Fatalf("%v: %v", args, err)
			}
			return v
		}
		do("SET", "a", "v", "EXAT", now.Unix()+100)
		if ttl := do("TTL", "a").(int64); ttl < 99 || ttl > 100 {
			t.Fatalf("TTL after EXAT now+100 = %d", ttl)
		}
		do("SET", "a", "v", "PXAT", now.UnixMilli()+100000)
		if ms := do("PTTL", "a").(int64); ms <= 98000 || ms > 100000 {
			t.Fatalf("PTTL after PXAT now+100000 = %d", ms)
		}
		const far = int64(9999999999)    // int64: it overflows a 32-bit int
		do("SET", "a", "v", "EXAT", far) // past 2262: too late for a deadline in nanoseconds
		if ttl := do("TTL", "a").(int64); ttl < far-now.Unix()-2 || ttl > far-now.Unix() {
			t.Fatalf("TTL after EXAT 9999999999 = %d", ttl)
		}
		if v := do("SET", "a", "v", "EXAT", 1); v != "OK" {
			t.Fatalf("SET with a deadline in the past = %v, want OK", v)
		}
		if v := do("GET", "a"); v != nil {
			t.Fatalf("GET after a SET with a deadline in the past = %v, want nil", v)
		}
	})
}

func TestCommands(t *testing.T) {
	for _, proto := range []int{3, 2} {
		forModes(t, nil, func(t *testing.T, s server) {
			ctx := testContext(t)
			c := newClient(t, s.Addr(), proto)
			conn := c.Conn() // one connection: CLIENT SETNAME must be seen by GETNAME
			defer conn.Close()
			for _, st := range commandSteps {
				v, err := conn.Do(ctx, st.args...).Result()
				name := fmt.Sprint(st.args...)
				if st.errSub != "" {
					if err == nil || !strings.Contains(err.Error(), st.errSub) {
						t.Fatalf("proto %d: %s: got %v, %v; want an error containing %q", proto, name, v, err, st.errSub)
					}
					continue
				}
				if err != nil {
					t.Fatalf("proto %d: %s: %v", proto, name, err)
				}
				want := st.want
				if proto == 3 && st.want3 != "" {
					want = st.want3
				}
				if got := fmt.Sprint(v); got != want {
					t.Fatalf("proto %d: %s = %q, want %q", proto, name, got, want)
				}
			}
		})
	}
}

// TestHello2 checks the RESP2 HELLO answer that go-redis parses when asked for RESP2.
func TestHello2(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		c := newClient(t, s.Addr(), 2)
		v, err := c.Do(testContext(t), "HELLO", "2", "SETNAME", "x").Slice()
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 14 || v[0] != "server" || v[4] != "proto" || v[5] != int64(2) {
			t.Fatalf("HELLO 2 = %v", v)
		}
	})
}

func TestQuit(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		c := newClient(t, s.Addr(), 3)
		conn := c.Conn()
		defer conn.Close()
		if err := conn.Set(ctx, "q", "1", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if v, err := conn.Do(ctx, "QUIT").Result(); err != nil || v != "OK" {
			t.Fatalf("QUIT = %v, %v", v, err)
		}
		err := conn.Ping(ctx).Err()
		if err == nil || errors.Is(err, redis.Nil) {
			t.Fatalf("PING after QUIT succeeded (%v); want a closed connection", err)
		}
	})
}

// TestSelectDatabase connects go-redis to database 5 (it sends SELECT while connecting):
// its keys are not those of database 0. Before, SELECT of any database but 0 failed, and so
// did go-redis's connection.
func TestSelectDatabase(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		for _, proto := range []int{3, 2} {
			c5 := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: proto, DB: 5})
			defer c5.Close()
			c0 := newClient(t, s.Addr(), proto)
			if err := c5.MSet(ctx, "k", "five", "j", "5").Err(); err != nil {
				t.Fatalf("proto %d: MSET in database 5: %v", proto, err)
			}
			if v, err := c0.Get(ctx, "k").Result(); err != redis.Nil {
				t.Fatalf("proto %d: GET k in database 0 = %q, %v; want nil", proto, v, err)
			}
			if n, err := c5.DBSize(ctx).Result(); err != nil || n != 2 {
				t.Fatalf("proto %d: DBSIZE of database 5 = %d, %v; want 2", proto, n, err)
			}
			if err := c5.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestHelp: every error about a subcommand tells the client to try HELP, which was itself an
// unknown subcommand. Each container command's HELP is an array of simple strings, as
// Redis's is, that names every subcommand the server answers.
func TestHelp(t *testing.T) {
	var p connParser
	for _, tc := range []struct {
		name  string
		subs  []subcommand
		reply []byte
	}{
		{"CLIENT", clientSubs, p.client(nil, [][]byte{[]byte("client"), []byte("HELP")})},
		{"CONFIG", configSubs, configCommand([][]byte{[]byte("config"), []byte("help")}, false)},
		{"COMMAND", commandSubs, commandCommand([][]byte{[]byte("command"), []byte("Help")}, false)},
	} {
		lines := strings.Split(strings.TrimSuffix(string(tc.reply), "\r\n"), "\r\n")
		if n, err := strconv.Atoi(strings.TrimPrefix(lines[0], "*")); err != nil || n != len(lines)-1 || !strings.HasPrefix(lines[0], "*") {
			t.Fatalf("%s HELP: header %q for %d lines", tc.name, lines[0], len(lines)-1)
		}
		if !strings.HasPrefix(lines[1], "+"+tc.name+" ") {
			t.Errorf("%s HELP begins %q", tc.name, lines[1])
		}
		text := string(tc.reply)
		for _, l := range lines[1:] {
			if !strings.HasPrefix(l, "+") {
				t.Fatalf("%s HELP: line %q is not a simple string", tc.name, l)
			}
		}
		for _, s := range tc.subs {
			if !strings.Contains(text, "\r\n+"+strings.ToUpper(s.name)) {
				t.Errorf("%s HELP does not describe %s:\n%s", tc.name, strings.ToUpper(s.name), text)
			}
		}
	}
}

// TestAppendLimit: APPEND refuses to make a value longer than -max-bulk, as Redis refuses
// one longer than proto-max-bulk-len, and leaves the value as it was. (The limit leaves room
// for the arguments of go-redis's handshake.)
func TestAppendLimit(t *testing.T) {
	forModes(t, func(c *config) { c.lim.maxBulk = 100 }, func(t *testing.T, s server) {
		ctx := testContext(t)
		c := newClient(t, s.Addr(), 2)
		first, over, rest := strings.Repeat("a", 60), strings.Repeat("b", 41), strings.Repeat("c", 40)
		if n, err := c.Append(ctx, "k", first).Result(); n != 60 || err != nil {
			t.Fatalf("APPEND of 60 bytes: %d, %v", n, err)
		}
		if _, err := c.Append(ctx, "k", over).Result(); err == nil || !strings.Contains(err.Error(), "string exceeds maximum allowed size (proto-max-bulk-len)") {
			t.Fatalf("APPEND past the limit: %v; want Redis's proto-max-bulk-len error", err)
		}
		if n, err := c.Append(ctx, "k", rest).Result(); n != 100 || err != nil {
			t.Fatalf("APPEND up to the limit: %d, %v; want 100", n, err)
		}
		if v, err := c.Get(ctx, "k").Result(); v != first+rest || err != nil {
			t.Fatalf("GET after the refused APPEND: %q, %v", v, err)
		}
	})
}
