//go:build linux || darwin || freebsd

package main

import (
	"bytes"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadPoolBound(t *testing.T) {
	p := newReadPool(4)
	var bufs []*[]byte
	for range 10 {
		bufs = append(bufs, p.get())
	}
	for _, b := range bufs {
		p.put(b)
	}
	if got, made := p.retained(); got != 4*readSize || made != 10 {
		t.Fatalf("retained %d bytes after making %d buffers; want %d after 10", got, made, 4*readSize)
	}
	for range 4 {
		p.get()
	}
	if got, made := p.retained(); got != 0 || made != 10 {
		t.Fatalf("retained %d bytes and made %d buffers after taking the pooled four; want 0 and 10", got, made)
	}
}

// TestParserForgetsIncompleteRequest: once a connection with a large incomplete request
// ends, nothing of the parser (its scratch included) points into that request's buffer.
// The scratch's argument array used to keep the sub-slices of the last request it parsed.
func TestParserForgetsIncompleteRequest(t *testing.T) {
	rt := newRouter(defaultLimits, 4, false)
	var sc scratch
	c := &conn{id: 1}
	data := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4000000\r\n" + strings.Repeat("v", 1<<20))
	c.parse.feed(c, data, rt, &sc, func(request) {})
	if len(c.parse.pending) == 0 {
		t.Fatal("the incomplete request is not pending")
	}
	c.parse.end(c, rt, &sc, func(request) {})
	if c.parse.pending != nil {
		t.Fatal("the connection's pending request outlives it")
	}
	for i, a := range sc.args[:cap(sc.args)] {
		if a != nil {
			t.Fatalf("the parser's scratch still holds argument %d (%q)", i, a[:min(len(a), 8)])
		}
	}
	c2 := &conn{id: 2}
	many := "*2000\r\n" + strings.Repeat("$1\r\nk\r\n", 1999)
	c2.parse.feed(c2, []byte(many), rt, &sc, func(request) {})
	if cap(sc.args) > maxScratchArgs {
		t.Fatalf("the scratch keeps an argument array of %d after a request of 2000 arguments", cap(sc.args))
	}
}

// TestIncompleteRequestsReleased: clients send the first megabytes of large requests at
// once and vanish. Once the server has closed their connections, the memory their requests
// took is released: the read buffers the burst filled, beyond the pool's bound, and the
// requests' pending bytes.
func TestIncompleteRequestsReleased(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		const clients, sent = 8, 6 << 20
		req := []byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$8000000\r\n" + strings.Repeat("v", sent))
		before := heapAlloc()
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				nc, err := net.Dial("tcp", s.Addr())
				if err != nil {
					t.Error(err)
					return
				}
				defer nc.Close()
				if _, err := nc.Write(req); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		waitFor(t, 20*time.Second, "the server closes the connections", func() bool { return openConns(s) == 0 })
		after := heapAlloc()
		runtime.KeepAlive(req) // in both figures
		t.Logf("%d clients sent %d MiB each of an 8 MB request: heap %d KiB before, %d KiB after they closed", clients, sent>>20, before>>10, after>>10)
		if gs, ok := s.(*graphServer); ok {
			kept, made := gs.reads.retained()
			t.Logf("read buffers: %d made, %d KiB kept", made, kept>>10)
			if kept > maxPooledReads*readSize {
				t.Fatalf("the read pool keeps %d KiB", kept>>10)
			}
		}
		if bound := uint64(8 << 20); after > before+bound { // the pool's 4 MiB and room for the rest
			t.Fatalf("heap grew by %d KiB (bound %d KiB): the closed connections' requests are still held", (after-before)>>10, bound>>10)
		}
	})
}

// TestMSetKeepsNotTheRequest: an MSET's values pointed into the request's one allocation
// (copyArgs), so any value still stored kept every argument of that MSET alive: after MSET
// big <500 MB> small x and DEL big, the 500 MB stayed. Each pair is now copied into an
// allocation of its own, which the test sees by overwriting the request's bytes after the
// MSET ran: what was stored must not change.
func TestMSetKeepsNotTheRequest(t *testing.T) {
	st := newStore(defaultLimits.maxBulk)
	mset := &request{parts: 1, cmd: lookup([]byte("MSET")), keys: []int32{1, 3},
		args: copyArgs([][]byte{[]byte("MSET"), []byte("big"), bytes.Repeat([]byte("b"), 1<<10), []byte("small"), []byte("x")})}
	_ = execute(st, mset)
	for _, a := range mset.args {
		for i := range a {
			a[i] = '!'
		}
	}
	var clk clock
	for key, want := range map[string]string{"big": strings.Repeat("b", 1<<10), "small": "x"} {
		it, ok := st.db(0).get([]byte(key), &clk)
		if !ok || string(it.val) != want {
			t.Errorf("after the request's bytes changed, %s holds %.20q (stored: %v), want %.20q", key, it.val, ok, want)
		}
	}
	if len(st.db(0).m) != 2 {
		t.Errorf("the store holds %d keys, want 2: a key changed with the request's bytes", len(st.db(0).m))
	}
}
