package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

// TestConnectionChurn opens and closes connections quickly, so the kernel reuses fd
// numbers while earlier connections' replies and closes are still in flight; every
// connection must get exactly its own replies.
func TestConnectionChurn(t *testing.T) {
	forModes(t, nil, func(t *testing.T, s server) {
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range scale(150) {
					if err := echoOnce(s.Addr(), fmt.Sprintf("g%d-i%d", g, i), i%3 == 0); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})
}

// echoOnce sends a few ECHOs on a fresh connection and checks the replies; abandon closes
// the connection before reading the last one.
func echoOnce(addr, id string, abandon bool) error {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	msg := fmt.Sprintf("ECHO %s-a\r\nECHO %s-b\r\n", id, id)
	want := fmt.Sprintf("$%d\r\n%s-a\r\n$%d\r\n%s-b\r\n", len(id)+2, id, len(id)+2, id)
	if _, err := nc.Write([]byte(msg)); err != nil {
		return err
	}
	if abandon {
		return nil
	}
	got := make([]byte, len(want))
	for n := 0; n < len(got); {
		k, err := nc.Read(got[n:])
		if err != nil {
			return fmt.Errorf("%s: read after %q: %w", id, got[:n], err)
		}
		n += k
	}
	if string(got) != want {
		return fmt.Errorf("%s: got %q, want %q", id, got, want)
	}
	return nil
}

func TestMaxClients(t *testing.T) {
	forModes(t, func(c *config) { c.maxClients = 2 }, func(t *testing.T, s server) {
		a, b := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
		a.send("PING\r\n")
		a.expect("+PONG\r\n")
		b.send("PING\r\n")
		b.expect("+PONG\r\n")
		c := dialRaw(t, s.Addr())
		c.expectLine("-ERR max number of clients reached")
		c.expectClosed()
		a.send("PING\r\n")
		a.expect("+PONG\r\n")
	})
}

// TestAllocs checks that the hot paths the design keeps allocation-free stay so: a GET and
// a SET on a shard (a SET of a new key stores its key's bytes as the request holds them,
// where it once copied them into a string: an allocation per key; the map's growth, spread
// over the keys, rounds down to none), and writing a bulk reply through the assembler.
func TestAllocs(t *testing.T) {
	st := newStore(defaultLimits.maxBulk)
	var sets []*request
	for i := range 101 { // AllocsPerRun calls once more than it counts
		sets = append(sets, &request{parts: 1, cmd: lookup([]byte("SET")),
			args: copyArgs([][]byte{[]byte("SET"), fmt.Appendf(nil, "key:%d", i), []byte("value")})})
	}
	next := 0
	if n := testing.AllocsPerRun(100, func() { _ = execute(st, sets[next]); next++ }); n != 0 {
		t.Errorf("SET of a new key allocates %v times", n)
	}
	get := &request{parts: 1, cmd: lookup([]byte("GET")), args: [][]byte{[]byte("GET"), []byte("key:7")}}
	if n := testing.AllocsPerRun(100, func() { _ = execute(st, get) }); n != 0 {
		t.Errorf("GET allocates %v times", n)
	}
	if r := execute(st, get); r.kind != replyBulk || string(r.b) != "value" {
		t.Errorf("GET after SET: %+v", r)
	}
	var a assembler
	a.buf.spare = make([]byte, 0, 4096)
	r := reply{parts: 1, kind: replyBulk, b: []byte("value")}
	if n := testing.AllocsPerRun(100, func() {
		r.seq = a.next
		a.add(r)
		a.written()
	}); n != 0 {
		t.Errorf("assembling a bulk reply allocates %v times", n)
	}
}

// TestRepliesBackInOrder: replies that come in any order leave in request order, whatever
// the gap between a reply and its turn (the window of held replies grows, and shrinks back
// once empty), and none is lost or repeated.
func TestRepliesBackInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 15, 16, 17, 64, 65, 300, 5000} {
		var a assembler
		next := 0
		for round := range 3 {
			seqs := rng.Perm(n)
			if round == 1 { // the widest gaps: the last reply first, the first last
				for i := range seqs {
					seqs[i] = n - 1 - i
				}
			}
			for _, s := range seqs {
				a.add(reply{seq: uint64(next + s), parts: 1, kind: replyInt, n: int64(next + s)})
			}
			var want []byte
			for i := range n {
				want = appendInt(want, int64(next+i))
			}
			if got := bytes.Join(a.buf.pending(), nil); !bytes.Equal(got, want) {
				t.Fatalf("%d replies, round %d: wrote %q, want %q", n, round, got, want)
			}
			if a.held.n != 0 || len(a.held.slots) > keepHeld {
				t.Fatalf("%d replies, round %d: %d still held in a window of %d", n, round, a.held.n, len(a.held.slots))
			}
			a.written()
			next += n
		}
	}
}
