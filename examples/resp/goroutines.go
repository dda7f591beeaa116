package main

import (
	"cmp"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// goroutineServer is the baseline: Go's usual shape, a goroutine per connection on the net
// package, running the same parser, command code and reply assembly as the graph. The
// shards are the same too, each behind a mutex, since any goroutine may touch any shard.
type goroutineServer struct {
	cfg    config
	ln     net.Listener
	rt     *router
	stores []*store
	nextID atomic.Uint64
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[*net.TCPConn]struct{}
	once  sync.Once
}

func startGoroutines(cfg config) (server, error) {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	s := &goroutineServer{cfg: cfg, ln: ln, rt: newRouter(cfg.lim, cfg.workers*shardsPerWorker, false), conns: make(map[*net.TCPConn]struct{})}
	s.stores = make([]*store, s.rt.shards)
	for i := range s.stores {
		s.stores[i] = newStore()
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

func (s *goroutineServer) Addr() string { return s.ln.Addr().String() }

// Stop closes the listener and the read side of every connection: each goroutine answers
// what it has read, writes it, and ends.
func (s *goroutineServer) Stop() error {
	s.once.Do(func() {
		s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			_ = c.CloseRead()
		}
		s.conns = nil
		s.mu.Unlock()
	})
	s.wg.Wait()
	return nil
}

func (s *goroutineServer) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return // closed by Stop (or the host is out of descriptors for good)
		}
		tc := nc.(*net.TCPConn)
		s.mu.Lock()
		if s.conns == nil || (s.cfg.maxClients > 0 && len(s.conns) >= s.cfg.maxClients) {
			s.mu.Unlock()
			_, _ = tc.Write([]byte("-ERR max number of clients reached\r\n"))
			tc.Close()
			continue
		}
		s.conns[tc] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(tc)
	}
}

func (s *goroutineServer) serve(tc *net.TCPConn) {
	defer s.wg.Done()
	c := &conn{id: s.nextID.Add(1), fd: -1}
	defer func() {
		s.mu.Lock()
		if s.conns != nil {
			delete(s.conns, tc)
		}
		s.mu.Unlock()
		if c.dropped.Load() && (c.out.broken || connUnread(tc)) {
			_ = tc.SetLinger(0) // a reset, as the graph sends (resetOnClose)
		}
		tc.Close()
	}()
	var sc scratch
	hard := s.cfg.outLimit.hard
	var parts []request // the parts of a command that spans shards, until the last one
	emit := func(r request) {
		if r.parts == 1 {
			c.out.add(s.run(&r))
		} else if parts = append(parts, r); len(parts) == int(r.parts) {
			s.runAll(parts, &c.out)
			clear(parts)
			parts = parts[:0]
		}
		if hard > 0 && c.out.buf.len() > hard && !c.out.broken {
			c.out.discard() // past the hard limit: the client is dropped
			c.dropped.Store(true)
		}
	}
	defer c.parse.unwatch(c, s.rt, &sc, emit, nil) // the shards forget what it watched
	w := writer{tc: tc, timeout: s.cfg.writeTimeout, lim: s.cfg.outLimit}
	buf := make([]byte, readSize)
	for {
		n, err := tc.Read(buf)
		if n > 0 {
			c.parse.feed(c, buf[:n], s.rt, &sc, emit)
			if c.out.broken || w.write(&c.out.buf) != nil {
				return // past the output limit, or a failed write
			}
			c.out.written()
			if c.out.shutdown {
				return // QUIT or a protocol error, whose reply is written
			}
		}
		if err != nil {
			return
		}
	}
}

// writer writes a connection's replies with the graph's limits: a client that takes
// nothing for timeout, or leaves more than the soft limit unread for its time, is dropped.
// The goroutine does not read while it writes, so its pending output is at most the
// replies to one read, which emit holds to the hard limit.
type writer struct {
	tc      *net.TCPConn
	timeout time.Duration
	lim     outputLimit
	idle    time.Time   // the write timeout's deadline; zero: none
	set     time.Time   // the write deadline set on tc: idle, or the soft limit's if sooner
	iov     net.Buffers // the slices one write is given
}

// write writes out all of out, or fails.
func (w *writer) write(out *outbuf) error {
	var softSince time.Time
	for out.len() > 0 {
		now := time.Now()
		over, since := w.lim.over(out.len(), softSince, now)
		if over {
			return errOutputLimit
		}
		softSince = since
		// Moving the deadline costs a timer update, so it moves only when half the timeout
		// has gone (a client then gets between timeout/2 and timeout to take a byte).
		if w.timeout > 0 && (w.idle.IsZero() || w.idle.Sub(now) < w.timeout/2) {
			w.idle = now.Add(w.timeout)
		}
		d := w.idle
		if !softSince.IsZero() && w.lim.softFor > 0 {
			if sd := softSince.Add(w.lim.softFor); d.IsZero() || sd.Before(d) {
				d = sd
			}
		}
		if !d.Equal(w.set) {
			if err := w.tc.SetWriteDeadline(d); err != nil {
				return err
			}
			w.set = d
		}
		w.iov = append(w.iov[:0], out.pending()...)
		bufs := w.iov
		n, err := bufs.WriteTo(w.tc) // writev; it consumes bufs
		clear(w.iov)                 // hold no value once written
		out.wrote(int(n))
		if err != nil && n == 0 {
			return err // a deadline that passed with no progress, or a broken connection
		}
	}
	return nil
}

var errOutputLimit = errors.New("client output buffer limit reached")

// runAll executes the parts of a command that spans shards with every one of its shards
// locked, so that no other command sees it half done; the locks are taken in shard order,
// so that two such commands cannot each wait for the other's. A transaction with WATCH
// checks every shard's watched keys before any part runs, so that all run or none does.
func (s *goroutineServer) runAll(parts []request, out *assembler) {
	slices.SortFunc(parts, func(a, b request) int { return cmp.Compare(a.shard, b.shard) })
	for i := range parts {
		s.stores[parts[i].shard].mu.Lock()
	}
	if parts[0].tx != nil && parts[0].tx.t.watch {
		dirty := false
		for i := range parts {
			dirty = s.stores[parts[i].shard].watchDirty(parts[i].c) || dirty
		}
		for i := range parts {
			parts[i].abort = dirty
		}
	}
	for i := range parts {
		out.add(execute(s.stores[parts[i].shard], &parts[i]))
	}
	for i := range parts {
		s.stores[parts[i].shard].mu.Unlock()
	}
}

// run executes a request part under its shard's lock.
func (s *goroutineServer) run(r *request) reply {
	if r.cmd == nil {
		return execute(nil, r)
	}
	st := s.stores[r.shard]
	st.mu.Lock()
	defer st.mu.Unlock()
	return execute(st, r)
}

// connUnread reports whether the connection holds input the server has not read
// (unreadInput).
func connUnread(tc *net.TCPConn) bool {
	rc, err := tc.SyscallConn()
	if err != nil {
		return true
	}
	unread := true
	_ = rc.Control(func(fd uintptr) { unread = unreadInput(int(fd)) })
	return unread
}
