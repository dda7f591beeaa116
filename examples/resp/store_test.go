package main

import (
	"math"
	"testing"
)

// TestExpiryBoundary: a key lives through the millisecond of its deadline and is gone after
// it, as in Redis (keyIsExpired: now > when); TTL reads 0 in that millisecond.
func TestExpiryBoundary(t *testing.T) {
	const now = int64(1_700_000_000_000)
	tests := []struct {
		name    string
		exp     int64
		live    bool
		pttl    int64
		dbsize  int64
		expTime int64 // EXPIRETIME
	}{
		{"a millisecond to go", now + 1, true, 1, 1, now / 1000},
		{"at the deadline", now, true, 0, 1, now / 1000},
		{"a millisecond past", now - 1, false, -2, 0, -2},
		{"no deadline", 0, true, -1, 1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A keyspace of its own for each check: a lookup deletes an expired key.
			fresh := func() *keyspace {
				var ks keyspace
				ks.setShared([]byte("k"), item{val: []byte("v"), exp: tt.exp})
				return &ks
			}
			clk := clock{t: now}
			if _, ok := fresh().get([]byte("k"), &clk); ok != tt.live {
				t.Errorf("get found the key: %v, want %v", ok, tt.live)
			}
			if got := ttl(fresh(), []byte("k"), true, false, &clk); got != tt.pttl {
				t.Errorf("PTTL = %d, want %d", got, tt.pttl)
			}
			if got := fresh().size(&clk); got != tt.dbsize {
				t.Errorf("DBSIZE = %d, want %d", got, tt.dbsize)
			}
			if got := ttl(fresh(), []byte("k"), false, true, &clk); got != tt.expTime {
				t.Errorf("EXPIRETIME = %d, want %d", got, tt.expTime)
			}
		})
	}
}

// TestExpireTimeRounding: EXPIRETIME rounds the deadline to the nearest second, as Redis
// does, up to the largest deadline, where (ms+500)/1000 would overflow.
func TestExpireTimeRounding(t *testing.T) {
	tests := []struct{ exp, want int64 }{
		{1_499, 1},
		{1_500, 2},
		{1_501, 2},
		{math.MaxInt64 - 308, 9223372036854775}, // checked against redis-server 7.0.15
		{math.MaxInt64 - 307, 9223372036854776},
		{math.MaxInt64, 9223372036854776},
	}
	for _, tt := range tests {
		var ks keyspace
		ks.setShared([]byte("k"), item{val: []byte("v"), exp: tt.exp})
		clk := clock{t: 1}
		if got := ttl(&ks, []byte("k"), false, true, &clk); got != tt.want {
			t.Errorf("EXPIRETIME of a deadline at %d ms = %d, want %d", tt.exp, got, tt.want)
		}
	}
}
