package main

import (
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// bigValue is a value of n bytes that differ from position to position, so that a reply
// written out of order, twice or with a gap is caught.
func bigValue(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%251%26)
	}
	return string(b)
}

func setCmd(key, val string) string {
	return "*3\r\n$3\r\nSET\r\n$" + itoa(len(key)) + "\r\n" + key + "\r\n$" + itoa(len(val)) + "\r\n" + val + "\r\n"
}

// dialWithBig connects a raw client that has stored a 256 KiB value under "big", and
// returns the value.
func dialWithBig(t *testing.T, s server) (*rawConn, string) {
	t.Helper()
	val := bigValue(256 << 10)
	c := dialRaw(t, s.Addr())
	c.send(setCmd("big", val))
	c.expect("+OK\r\n")
	return c, val
}

// openConns is how many client connections the server holds.
func openConns(s server) int {
	if gs, ok := s.(*goroutineServer); ok {
		gs.mu.Lock()
		defer gs.mu.Unlock()
		return len(gs.conns)
	}
	return graphConns(s)
}

// waitFor polls cond until it holds, failing the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// TestSlowReaderDoesNotStallOthers: one client pipelines GETs of a large value and reads
// nothing, so its replies fill its socket and wait in the server; another client served
// by the same reply stage must go on getting every reply promptly meanwhile. Then the slow
// client reads, and must get every reply whole and in order.
//
// Until the replier waited for writability in its loop, it blocked in poll(2) on the full
// socket, and the second client's first reply waited for the write timeout (10 s).
func TestSlowReaderDoesNotStallOthers(t *testing.T) {
	forModes(t, func(c *config) { c.repliers = 1 }, func(t *testing.T, s server) {
		slow, val := dialWithBig(t, s)
		n := 128 // 32 MiB of replies: several times what the two socket buffers hold
		slow.send(strings.Repeat("GET big\r\n", n))
		_, goroutines := s.(*goroutineServer)
		if goroutines {
			time.Sleep(100 * time.Millisecond) // its goroutine blocks in its write
		} else {
			waitFor(t, 10*time.Second, "the slow client's replies wait in the replier", func() bool { return graphQueued(s) > 0 })
		}
		fast := dialRaw(t, s.Addr())
		var worst, total time.Duration
		rounds := scale(300)
		for i := range rounds {
			start := time.Now()
			v := itoa(i)
			fast.send("PING\r\nECHO " + v + "\r\n")
			fast.expect("+PONG\r\n$" + itoa(len(v)) + "\r\n" + v + "\r\n")
			d := time.Since(start)
			if d > 100*time.Millisecond {
				t.Logf("round %d took %v", i, d)
			}
			worst, total = max(worst, d), total+d
		}
		if !goroutines && graphQueued(s) == 0 {
			t.Fatal("the slow client's replies no longer wait in the replier: the test did not overlap them")
		}
		t.Logf("%d round trips while a client reads nothing: mean %v, worst %v", rounds, total/time.Duration(rounds), worst)
		if worst > time.Second {
			t.Fatalf("a round trip took %v while another client of the same replier read nothing", worst)
		}
		want := "$" + itoa(len(val)) + "\r\n" + val + "\r\n"
		for range n {
			slow.expect(want)
		}
		if !goroutines {
			waitFor(t, 5*time.Second, "the replier's queued output drains", func() bool { return graphQueued(s) == 0 })
		}
	})
}

// TestOutputLimit: a client that pipelines GETs of a value and reads nothing is
// dropped once its pending output passes the hard limit, stays above the soft limit for
// its time, or takes nothing for the write timeout; the memory held for it is released,
// it sees the connection end after what its socket had taken, and other clients carry on.
func TestOutputLimit(t *testing.T) {
	cases := []struct {
		name    string
		tweak   func(*config)
		atLeast time.Duration // the drop must not come before this
		atMost  time.Duration // nor after this (0: waitFor's bound)
		chunk   int           // send the GETs this many at a time, 5 ms apart (0: at once)
		ping    bool          // then send a PING every 100 ms until dropped, reading nothing
	}{
		{"hard", func(c *config) { c.outLimit = outputLimit{hard: 4 << 20} }, 0, 0, 0, false},
		{"soft", func(c *config) { c.outLimit = outputLimit{soft: 2 << 20, softFor: time.Second} }, time.Second, 0, 0, false},
		{"write timeout", func(c *config) { c.outLimit, c.writeTimeout = outputLimit{}, 300*time.Millisecond }, 300 * time.Millisecond, 0, 0, false},
		// The limit is crossed while a write already waits for the client: the drop comes
		// then, not when the write timeout (20 s) ends that write.
		{"hard while a write waits", func(c *config) { c.outLimit, c.writeTimeout = outputLimit{hard: 4 << 20}, 20*time.Second }, 0, 5 * time.Second, 20, false},
		// A client that takes nothing is dropped by the write timeout even while it keeps
		// sending: new input is not progress.
		{"write timeout while the client sends", func(c *config) { c.outLimit, c.writeTimeout = outputLimit{}, time.Second }, time.Second, 8 * time.Second, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forModes(t, tc.tweak, func(t *testing.T, s server) {
				// Values below refMin are copied into the connection's buffer: the one
				// that must be released.
				val := bigValue(8 << 10)
				other := dialRaw(t, s.Addr())
				other.send(setCmd("v", val))
				other.expect("+OK\r\n")
				before := heapAlloc()
				slow := dialRaw(t, s.Addr())
				waitFor(t, 10*time.Second, "the server accepts the client", func() bool { return openConns(s) == 2 })
				n := 2000 // 16 MiB of replies
				sent := time.Now()
				if tc.chunk == 0 {
					slow.send(strings.Repeat("GET v\r\n", n))
				}
				stop := make(chan struct{})
				sending := make(chan struct{})
				go func() { // writes fail once the client is dropped: that ends the sending
					defer close(sending)
					for i := 0; tc.chunk > 0 && i < n; i += tc.chunk {
						if _, err := io.WriteString(slow.nc, strings.Repeat("GET v\r\n", tc.chunk)); err != nil {
							return
						}
						time.Sleep(5 * time.Millisecond)
					}
					for tc.ping {
						select {
						case <-stop:
							return
						case <-time.After(100 * time.Millisecond):
						}
						if _, err := io.WriteString(slow.nc, "PING\r\n"); err != nil {
							return
						}
					}
				}()
				waitFor(t, 20*time.Second, "the slow client is dropped", func() bool { return openConns(s) == 1 })
				took := time.Since(sent)
				close(stop)
				<-sending
				if took < tc.atLeast {
					t.Fatalf("dropped after %v, before the limit's %v", took, tc.atLeast)
				}
				if tc.atMost > 0 && took > tc.atMost {
					t.Fatalf("dropped after %v, want within %v", took, tc.atMost)
				}
				if q := graphQueued(s); q != 0 {
					t.Fatalf("the replier still counts %d bytes of output after the drop", q)
				}
				after := heapAlloc()
				t.Logf("dropped after %v; heap %d KiB before, %d KiB after", took, before>>10, after>>10)
				if after > before+2<<20 {
					t.Fatalf("heap grew from %d to %d KiB: the dropped client's output was kept", before>>10, after>>10)
				}
				got, err := io.Copy(io.Discard, slow.r)
				if err != nil && !strings.Contains(err.Error(), "reset") {
					t.Fatalf("reading what the dropped client had been sent: %v", err)
				}
				if total := int64(n * (len(val) + 9)); got >= total {
					t.Fatalf("the dropped client read all %d bytes of its replies", got)
				}
				other.send("PING\r\n")
				other.expect("+PONG\r\n")
			})
		})
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestOutputLimitFlag(t *testing.T) {
	cases := []struct {
		in   string
		want outputLimit
		err  bool
	}{
		{"256mb 64mb 60", outputLimit{hard: 256 << 20, soft: 64 << 20, softFor: time.Minute}, false},
		{"0 0 0", outputLimit{}, false},
		{"1gb 10k 1", outputLimit{hard: 1 << 30, soft: 10000, softFor: time.Second}, false},
		{"100 2KB 5", outputLimit{hard: 100, soft: 2048, softFor: 5 * time.Second}, false},
		{"1mb 1mb", outputLimit{}, true},
		{"-1 0 0", outputLimit{}, true},
		{"1tb 0 0", outputLimit{}, true},
		{"1mb 1mb x", outputLimit{}, true},
	}
	for _, tc := range cases {
		var l outputLimit
		err := l.Set(tc.in)
		if (err != nil) != tc.err || (!tc.err && l != tc.want) {
			t.Errorf("Set(%q) = %+v, %v; want %+v, error %v", tc.in, l, err, tc.want, tc.err)
			continue
		}
		if tc.err {
			continue
		}
		var back outputLimit
		if err := back.Set(l.String()); err != nil || back != l {
			t.Errorf("%q: String gives %q, which sets %+v, %v", tc.in, l.String(), back, err)
		}
	}
	if got := defaultOutputLimit.String(); got != "256mb 64mb 60" {
		t.Errorf("the default limit reads %q", got)
	}
}
