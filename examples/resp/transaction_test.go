package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestTransactionAtomic has one connection increment ten keys, on every shard, in one
// MULTI/EXEC at a time, while other connections read them with MGET and with MULTI/GET…/EXEC
// and count the reads that saw some keys incremented and others not: in Redis, which runs a
// transaction with no other command in between, there are none. Checked to fail: with each
// shard's share of EXEC run when its worker got to it, not at its turn in the order of
// multi-shard commands, 255 of 4730 reads in the graph were torn; with the goroutine mode
// locking one shard at a time for EXEC, 1488 of 6056.
func TestTransactionAtomic(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		keys := tenKeys("tx")
		rounds := scale(1500)
		writer, readers := writerAndReaders(t, s)
		var done atomic.Bool
		var reads, torn atomic.Int64
		check := func(how string, vals []any) {
			reads.Add(1)
			for _, v := range vals[1:] {
				if v != vals[0] {
					if torn.Add(1) <= 3 {
						t.Logf("torn %s: %v", how, vals)
					}
					return
				}
			}
		}
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for !done.Load() {
					vals, err := readers.MGet(ctx, keys...).Result()
					if err != nil {
						t.Error(err)
						return
					}
					check("MGET", vals)
					var gets []*redis.StringCmd
					_, err = readers.TxPipelined(ctx, func(p redis.Pipeliner) error {
						gets = gets[:0]
						for _, k := range keys {
							gets = append(gets, p.Get(ctx, k))
						}
						return nil
					})
					if err != nil && err != redis.Nil {
						t.Error(err)
						return
					}
					vals = vals[:0]
					for _, g := range gets {
						if v, err := g.Result(); err == nil {
							vals = append(vals, v)
						} else {
							vals = append(vals, nil)
						}
					}
					check("MULTI/GET/EXEC", vals)
				}
			})
		}
		for range rounds {
			cmds, err := writer.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Incr(ctx, k)
				}
				return nil
			})
			if err != nil || len(cmds) != len(keys) {
				t.Fatal(len(cmds), err)
			}
		}
		done.Store(true)
		wg.Wait()
		t.Logf("%d transactions, %d reads: %d torn", rounds, reads.Load(), torn.Load())
		if torn.Load() != 0 {
			t.Fatalf("%d of %d reads saw a transaction half done", torn.Load(), reads.Load())
		}
		for _, k := range keys {
			if n, err := writer.Get(ctx, k).Int(); err != nil || n != rounds {
				t.Fatalf("%s = %d, %v; want %d", k, n, err, rounds)
			}
		}
	})
}

// TestGoRedisTransactions runs go-redis's TxPipelined (MULTI … EXEC in one write) over
// keys on every shard, in RESP2 and RESP3, with errors inside EXEC, and its Watch with a
// counter that goroutines increment on one key: every increment is counted once, the
// conflicts retried after EXEC answered null (redis.TxFailedErr).
func TestGoRedisTransactions(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("RESP%d", proto), func(t *testing.T) {
				ctx := testContext(t)
				c := newClient(t, s.Addr(), proto)
				if err := c.FlushAll(ctx).Err(); err != nil {
					t.Fatal(err)
				}
				var set *redis.StatusCmd
				var incr, bad, del *redis.IntCmd
				var mget *redis.SliceCmd
				_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					set = p.Set(ctx, "s", "x", 0)
					p.MSet(ctx, "a", "1", "b", "2", "c", "3", "d", "4")
					incr = p.Incr(ctx, "a")
					bad = p.Incr(ctx, "s")
					mget = p.MGet(ctx, "d", "a", "nope", "b")
					del = p.Del(ctx, "b", "c", "nope")
					return nil
				})
				if err == nil || !strings.Contains(err.Error(), "not an integer") {
					t.Fatalf("TxPipelined: %v, want INCR's error", err)
				}
				if set.Val() != "OK" || incr.Val() != 2 || bad.Err() == nil || fmt.Sprint(mget.Val()) != "[4 2 <nil> 2]" || del.Val() != 2 {
					t.Fatalf("SET %v, INCR %v, INCR of a string %v, MGET %v, DEL %v", set.Val(), incr.Val(), bad.Err(), mget.Val(), del.Val())
				}

				const goroutines, each = 4, 50
				var wg sync.WaitGroup
				var conflicts atomic.Int64
				for range goroutines {
					wg.Go(func() {
						for range each {
							for {
								err := c.Watch(ctx, func(tx *redis.Tx) error {
									n, err := tx.Get(ctx, "counter").Int()
									if err != nil && err != redis.Nil {
										return err
									}
									_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
										p.Set(ctx, "counter", n+1, 0)
										return nil
									})
									return err
								}, "counter")
								if errors.Is(err, redis.TxFailedErr) {
									conflicts.Add(1)
									continue
								}
								if err != nil {
									t.Error(err)
									return
								}
								break
							}
						}
					})
				}
				wg.Wait()
				if n, err := c.Get(ctx, "counter").Int(); err != nil || n != goroutines*each {
					t.Fatalf("counter = %d, %v; want %d", n, err, goroutines*each)
				}
				t.Logf("%d increments, %d retried after a conflict", goroutines*each, conflicts.Load())
			})
		}
	})
}

// TestHelloInsideMulti: HELLO 3 queued in a transaction switches the connection at its
// place in EXEC, so the replies after it inside the array, and after EXEC, are RESP3.
func TestHelloInsideMulti(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		c := dialRaw(t, s.Addr())
		c.send(mb("MULTI") + mb("GET", "nope") + mb("HELLO", "3") + mb("GET", "nope") + mb("EXEC") + mb("GET", "nope"))
		c.expect("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n$-1\r\n")
		c.skipHello3()
		c.expect("_\r\n_\r\n")
	})
}
