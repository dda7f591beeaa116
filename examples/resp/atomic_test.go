package main

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestMultiKeyAtomic has one connection write ten keys, on every shard, with MSETs of one
// value each, while other connections read them with MGET and count the reads that mix two
// MSETs: in Redis, which runs one command at a time, there are none. DEL and EXISTS of the
// same keys join in: a DEL of them all must also be seen whole.
func TestMultiKeyAtomic(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		ctx := testContext(t)
		keys := tenKeys("atom")
		rounds := scale(3000)
		writer, readers := writerAndReaders(t, s)
		var done atomic.Bool
		var reads, torn, tornExists atomic.Int64
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for !done.Load() {
					pipe := readers.Pipeline()
					mget := pipe.MGet(ctx, keys...)
					exists := pipe.Exists(ctx, keys...)
					if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
						t.Error(err)
						return
					}
					reads.Add(1)
					vals := mget.Val()
					for _, v := range vals[1:] {
						if v != vals[0] {
							torn.Add(1)
							if torn.Load() <= 3 {
								t.Logf("torn MGET: %v", vals)
							}
							break
						}
					}
					if n := exists.Val(); n != 0 && n != int64(len(keys)) {
						tornExists.Add(1)
					}
				}
			})
		}
		for i := range rounds {
			kv := make([]any, 0, 2*len(keys))
			for _, k := range keys {
				kv = append(kv, k, strconv.Itoa(i))
			}
			var err error
			if i%10 == 9 {
				err = writer.Del(ctx, keys...).Err()
			} else {
				err = writer.MSet(ctx, kv...).Err()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		done.Store(true)
		wg.Wait()
		t.Logf("%d writes, %d MGET+EXISTS reads: %d torn MGETs, %d torn EXISTS", rounds, reads.Load(), torn.Load(), tornExists.Load())
		if torn.Load() != 0 || tornExists.Load() != 0 {
			t.Fatalf("%d of %d MGETs and %d EXISTS saw a mix of two writes", torn.Load(), reads.Load(), tornExists.Load())
		}
	})
}

// tenKeys returns the keys prefix0 to prefix9, which the router spreads over the shards.
func tenKeys(prefix string) []string {
	keys := make([]string, 10)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	return keys
}

// writerAndReaders returns the clients of an atomicity test: one connection that writes, and
// a pool of four that read; both are closed when the test ends.
func writerAndReaders(t *testing.T, s server) (writer, readers *redis.Client) {
	writer = redis.NewClient(&redis.Options{Addr: s.Addr(), PoolSize: 1, ReadTimeout: 10 * time.Second})
	readers = redis.NewClient(&redis.Options{Addr: s.Addr(), PoolSize: 4, ReadTimeout: 10 * time.Second})
	t.Cleanup(func() {
		writer.Close()
		readers.Close()
	})
	return writer, readers
}
