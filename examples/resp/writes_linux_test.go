package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOneWritePerRead: a pipeline whose commands run on every worker is answered with one
// write, though its replies reach the replier in a batch from each worker's ring. Counted
// on the client's side, as the data segments its socket received (TCP_INFO): the server
// sets TCP_NODELAY, so on loopback each of its writes arrives as a segment of its own. The
// replier used to write at the end of every batch: two to four writes per pipeline here.
func TestOneWritePerRead(t *testing.T) {
	s := startServer(t, "graph", nil)
	gs := s.(*graphServer)
	workers := gs.cfg.workers
	if workers < 2 {
		t.Fatalf("the default config has %d workers; the test needs several", workers)
	}
	// Keys that take the workers in turn (shard s runs on worker s mod workers).
	var keys []string
	for i := 0; len(keys) < 4*workers; i++ {
		k := fmt.Sprintf("k%d", i)
		if int(gs.rt.shardOf([]byte(k)))%workers == len(keys)%workers {
			keys = append(keys, k)
		}
	}
	var pipe []byte
	for _, k := range keys {
		pipe = fmt.Appendf(pipe, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n", len(k), k)
	}
	want := bytes.Repeat([]byte("+OK\r\n"), len(keys))

	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	raw, err := nc.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	segments := func() uint32 {
		var info *unix.TCPInfo
		var ierr error
		if err := raw.Control(func(fd uintptr) {
			info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		}); err != nil {
			t.Fatal(err)
		}
		if ierr != nil {
			t.Fatal(ierr)
		}
		return info.Data_segs_in
	}

	const rounds = 50
	got := make([]byte, len(want))
	before := segments()
	for i := range rounds {
		if _, err := nc.Write(pipe); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(nc, got); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: replies %q, want %q", i, got, want)
		}
	}
	if n := segments() - before; n != rounds {
		t.Errorf("%d pipelines of %d SETs over %d workers came back in %d writes, want one each", rounds, len(keys), workers, n)
	}
}
