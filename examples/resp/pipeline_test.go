package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// scale is n, or n/10 under -short.
func scale(n int) int {
	if testing.Short() {
		return max(n/10, 1)
	}
	return n
}

// TestPipelineOrder sends one long pipeline whose commands land on every shard, including
// split MGET/MSET/DEL/EXISTS and DBSIZE, and checks every reply against a model run in order.
func TestPipelineOrder(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		c := newClient(t, s.Addr(), 3)
		n := scale(3000)
		model := map[string]string{}
		pipe := c.Pipeline()
		var cmds []redis.Cmder
		var want []string
		for i := range n {
			k := "k" + strconv.Itoa(i%97)
			switch i % 6 {
			case 0:
				v := strconv.Itoa(i)
				cmds = append(cmds, pipe.Set(ctx, k, v, 0))
				model[k] = v
				want = append(want, "OK")
			case 1:
				cmds = append(cmds, pipe.Get(ctx, k))
				want = append(want, model[k])
			case 2:
				keys := []string{k, "k" + strconv.Itoa((i+31)%97), "k" + strconv.Itoa((i+62)%97), "absent"}
				cmds = append(cmds, pipe.MGet(ctx, keys...))
				var vals []any
				for _, kk := range keys {
					if v, ok := model[kk]; ok {
						vals = append(vals, v)
					} else {
						vals = append(vals, nil)
					}
				}
				want = append(want, fmt.Sprint(vals))
			case 3:
				var kv []any
				for j := range 8 {
					kk := "k" + strconv.Itoa((i+j*13)%97)
					v := fmt.Sprintf("m%d.%d", i, j)
					kv = append(kv, kk, v)
					model[kk] = v
				}
				cmds = append(cmds, pipe.MSet(ctx, kv...))
				want = append(want, "OK")
			case 4:
				k2 := "k" + strconv.Itoa((i+50)%97)
				cmds = append(cmds, pipe.Exists(ctx, k, k2, "absent"))
				cnt := 0
				for _, kk := range []string{k, k2} {
					if _, ok := model[kk]; ok {
						cnt++
					}
				}
				want = append(want, strconv.Itoa(cnt))
			case 5:
				if i%5 == 0 {
					cmds = append(cmds, pipe.Del(ctx, k, "absent"))
					cnt := 0
					if _, ok := model[k]; ok {
						cnt = 1
					}
					delete(model, k)
					want = append(want, strconv.Itoa(cnt))
				} else {
					cmds = append(cmds, pipe.DBSize(ctx))
					want = append(want, strconv.Itoa(len(model)))
				}
			}
		}
		if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
			t.Fatal(err)
		}
		for i, cmd := range cmds {
			var got string
			switch cmd := cmd.(type) {
			case *redis.StatusCmd:
				got = cmd.Val()
			case *redis.StringCmd:
				got = cmd.Val()
			case *redis.IntCmd:
				got = strconv.FormatInt(cmd.Val(), 10)
			case *redis.SliceCmd:
				got = fmt.Sprint(cmd.Val())
			}
			if got != want[i] {
				t.Fatalf("reply %d to %v = %q, want %q", i, cmd.Args(), got, want[i])
			}
		}
	})
}

// TestPipelineUploadWhileRepliesWait sends a pipeline as client libraries send one, every
// request written before the first reply is read, with more of both than the two socket
// buffers hold: SETs and GETs of a 256 KiB value, 16 MiB each way. The server must go on
// reading while its replies wait for the client, as redis-server does.
//
// The goroutine mode wrote each read's replies before it read again, so once the replies
// filled the sockets both sides were blocked in their writes until the server's write
// timeout (10 s) dropped the client; redis-py's pipeline of 60 SETs and GETs of a 1 MiB
// value, which redis-server answers at once, failed so. The test allows 10 s.
func TestPipelineUploadWhileRepliesWait(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
		defer cancel()
		c := newClient(t, s.Addr(), 2)
		val := bigValue(256 << 10)
		n := 64
		pipe := c.Pipeline()
		gets := make([]*redis.StringCmd, n)
		for i := range n {
			k := "big" + strconv.Itoa(i)
			pipe.Set(ctx, k, val[i:]+val[:i], 0)
			gets[i] = pipe.Get(ctx, k)
		}
		start := time.Now()
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("pipeline of %d SETs and GETs of %d KiB: %v after %v", n, len(val)>>10, err, time.Since(start))
		}
		for i, g := range gets {
			if g.Val() != val[i:]+val[:i] {
				t.Fatalf("GET big%d: %d bytes, not the value set", i, len(g.Val()))
			}
		}
	})
}

// TestConcurrentClients runs many connections at once, each with its own keys, mixing
// single-key and cross-shard commands in pipelines; each checks its own results, and shared
// counters check that no increment was lost.
func TestConcurrentClients(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		clients, rounds := 16, scale(100)
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), PoolSize: clients, ReadTimeout: 10 * time.Second})
		defer c.Close()
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for id := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- clientWork(ctx, c, id, rounds)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		for j := range 4 {
			got, err := c.Get(ctx, "shared"+strconv.Itoa(j)).Int()
			if err != nil || got != clients*rounds {
				t.Fatalf("shared%d = %d, %v; want %d", j, got, err, clients*rounds)
			}
		}
	})
}

func clientWork(ctx context.Context, c *redis.Client, id, rounds int) error {
	keys := make([]string, 12)
	for i := range keys {
		keys[i] = fmt.Sprintf("c%d:k%d", id, i)
	}
	for r := range rounds {
		pipe := c.Pipeline()
		var kv []any
		for i, k := range keys {
			kv = append(kv, k, fmt.Sprintf("%d.%d.%d", id, r, i))
		}
		pipe.MSet(ctx, kv...)
		mget := pipe.MGet(ctx, keys...)
		incr := pipe.Incr(ctx, fmt.Sprintf("c%d:n", id))
		for j := range 4 {
			pipe.Incr(ctx, "shared"+strconv.Itoa(j))
		}
		get := pipe.Get(ctx, keys[r%len(keys)])
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("client %d round %d: %w", id, r, err)
		}
		for i, v := range mget.Val() {
			if want := fmt.Sprintf("%d.%d.%d", id, r, i); v != want {
				return fmt.Errorf("client %d round %d: MGET[%d] = %v, want %s", id, r, i, v, want)
			}
		}
		if incr.Val() != int64(r+1) {
			return fmt.Errorf("client %d round %d: INCR = %d, want %d", id, r, incr.Val(), r+1)
		}
		if want := fmt.Sprintf("%d.%d.%d", id, r, r%len(keys)); get.Val() != want {
			return fmt.Errorf("client %d round %d: GET = %q, want %q", id, r, get.Val(), want)
		}
	}
	return nil
}

func TestExpiry(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		c := newClient(t, s.Addr(), 3)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(c.Set(ctx, "short", "v", 60*time.Millisecond).Err())
		must(c.Set(ctx, "long", "v", time.Hour).Err())
		must(c.Set(ctx, "later", "v", 0).Err())
		must(c.Do(ctx, "PEXPIRE", "later", "60").Err())
		if v, err := c.Get(ctx, "short").Result(); err != nil || v != "v" {
			t.Fatalf("GET short before expiry = %q, %v", v, err)
		}
		if ms, err := c.PTTL(ctx, "short").Result(); err != nil || ms <= 0 || ms > 60*time.Millisecond {
			t.Fatalf("PTTL short = %v, %v", ms, err)
		}
		time.Sleep(150 * time.Millisecond)
		for _, k := range []string{"short", "later"} {
			if err := c.Get(ctx, k).Err(); err != redis.Nil {
				t.Fatalf("GET %s after expiry: %v, want redis.Nil", k, err)
			}
			if ttl, err := c.Do(ctx, "TTL", k).Int64(); err != nil || ttl != -2 {
				t.Fatalf("TTL %s after expiry = %d, %v; want -2", k, ttl, err)
			}
		}
		if n, err := c.DBSize(ctx).Result(); err != nil || n != 1 {
			t.Fatalf("DBSIZE = %d, %v; want 1 (only long is live)", n, err)
		}
		// SET without KEEPTTL clears the deadline; INCR keeps it.
		must(c.Set(ctx, "cnt", "1", 200*time.Millisecond).Err())
		must(c.Incr(ctx, "cnt").Err())
		if ttl, err := c.Do(ctx, "PTTL", "cnt").Int64(); err != nil || ttl <= 0 {
			t.Fatalf("PTTL after INCR = %d, %v; want the deadline kept", ttl, err)
		}
		must(c.Set(ctx, "cnt", "1", 0).Err())
		if ttl, err := c.Do(ctx, "TTL", "cnt").Int64(); err != nil || ttl != -1 {
			t.Fatalf("TTL after plain SET = %d, %v; want -1", ttl, err)
		}
	})
}

// TestRepliesAcrossFullSockets makes a connection's socket fill again and again (GETs of a
// 256 KiB value that the client does not read at once), each time with small commands
// pipelined behind the big replies and sent while they wait, and reads everything in
// order: in the graph the connection goes from its reply stage to the stage's waiter and
// back every round, with replies passed to the waiter while it holds the connection and
// the stage writing again once it has it back. A second client runs beside it throughout.
func TestRepliesAcrossFullSockets(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		c, val := dialWithBig(t, s)
		side := dialRaw(t, s.Addr())
		stop := make(chan struct{})
		var once sync.Once
		stopSide := func() { once.Do(func() { close(stop) }) }
		defer stopSide()
		type result struct {
			n   int
			err error
		}
		sideDone := make(chan result, 1)
		go func() { // reports over sideDone: t's methods belong to the test's goroutine
			n := 0
			for {
				select {
				case <-stop:
					sideDone <- result{n: n}
					return
				default:
				}
				v := itoa(n)
				want := "$" + itoa(len(v)) + "\r\n" + v + "\r\n"
				got := make([]byte, len(want))
				if _, err := io.WriteString(side.nc, "ECHO "+v+"\r\n"); err != nil {
					sideDone <- result{n: n, err: err}
					return
				}
				if _, err := io.ReadFull(side.r, got); err != nil || string(got) != want {
					sideDone <- result{n: n, err: fmt.Errorf("ECHO %s: got %q, %v", v, got, err)}
					return
				}
				n++
			}
		}()
		bigReply := "$" + itoa(len(val)) + "\r\n" + val + "\r\n"
		rounds := scale(20)
		for r := range rounds {
			const gets = 32 // 8 MiB: more than the socket buffers hold
			c.send(strings.Repeat("GET big\r\n", gets))
			if _, goroutines := s.(*goroutineServer); !goroutines {
				waitFor(t, 10*time.Second, "replies wait for the client", func() bool { return graphQueued(s) > 0 })
			}
			// Sent while the big replies wait: their replies are queued behind them.
			k := "k" + itoa(r)
			c.send("SET " + k + " " + itoa(r) + "\r\nINCR " + k + "\r\nGET " + k + "\r\n")
			for range gets {
				c.expect(bigReply)
			}
			c.expect("+OK\r\n:" + itoa(r+1) + "\r\n$" + itoa(len(itoa(r+1))) + "\r\n" + itoa(r+1) + "\r\n")
			// Back with its stage: a plain round trip, and nothing held for the client.
			c.send("PING\r\n")
			c.expect("+PONG\r\n")
			waitFor(t, 10*time.Second, "the waiter hands the connection back", func() bool {
				return graphQueued(s) == 0 && graphHeld(s) == 0
			})
		}
		stopSide()
		if res := <-sideDone; res.err != nil || res.n == 0 {
			t.Fatalf("the side client, beside the other's full socket: %d round trips, %v", res.n, res.err)
		}
	})
}
