package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStopDrains stops the server while a client's pipeline is in flight: every request
// the server executed must have been answered before the connection closed, so the counter
// in the store equals the number of replies the client read, and the replies are in order.
func TestStopDrains(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			s := startServer(t, mode, nil)
			idle := dialRaw(t, s.Addr()) // a connection with nothing in flight
			idle.send("PING\r\n")
			idle.expect("+PONG\r\n")
			c := dialRaw(t, s.Addr())
			n := scale(20000)
			c.send(strings.Repeat("INCR d\r\n", n))
			r := bufio.NewReader(c.nc)
			first, err := r.ReadString('\n')
			if err != nil || first != ":1\r\n" {
				t.Fatalf("first reply %q, %v", first, err)
			}
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			got := 1
			for {
				line, err := r.ReadString('\n')
				if err == io.EOF && line == "" {
					break
				}
				if err != nil || line != ":"+strconv.Itoa(got+1)+"\r\n" {
					t.Fatalf("reply %d = %q, %v", got+1, line, err)
				}
				got++
			}
			if v := storedInt(t, s, "d"); v != got {
				t.Fatalf("the store counted %d INCRs but the client got %d replies", v, got)
			}
			idle.expectClosed()
			t.Logf("%d of %d requests answered before the stop", got, n)
		})
	}
}

// storedInt reads a key straight from a stopped server's shards.
func storedInt(t *testing.T, s server, key string) int {
	t.Helper()
	var stores []*store
	switch s := s.(type) {
	case *goroutineServer:
		stores = s.stores
	default:
		stores = graphStores(s)
	}
	for _, st := range stores {
		if it, ok := st.db(0).m[key]; ok {
			v, err := strconv.Atoi(string(it.val))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}

// TestStopWritesPendingOutput stops the server while a client's replies wait in it because
// the client has not read them yet: once it reads, it gets every one of them, then end of
// file.
func TestStopWritesPendingOutput(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		c, val := dialWithBig(t, s)
		n := 64 // 16 MiB: more than the socket buffers hold
		c.send(strings.Repeat("GET big\r\n", n))
		if _, goroutines := s.(*goroutineServer); goroutines {
			time.Sleep(100 * time.Millisecond)
		} else {
			waitFor(t, 10*time.Second, "replies wait in the replier", func() bool { return graphQueued(s) > 0 })
		}
		stopped := make(chan error, 1)
		go func() { stopped <- s.Stop() }()
		time.Sleep(50 * time.Millisecond) // let Stop begin before the client reads
		want := "$" + itoa(len(val)) + "\r\n" + val + "\r\n"
		for range n {
			c.expect(want)
		}
		c.expectClosed()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
	})
}
