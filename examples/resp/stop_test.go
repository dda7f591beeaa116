package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"testing"
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
		if it, ok := st.m[key]; ok {
			v, err := strconv.Atoi(string(it.val))
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	return 0
}
