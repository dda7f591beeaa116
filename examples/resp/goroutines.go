package main

import (
	"cmp"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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
		s.stores[i] = newStore(cfg.lim.maxBulk)
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
			if runtime.GOOS == "windows" {
				// CloseRead does not end a pending read there (golang/go#41002). Elsewhere
				// the read goes on through what the client had sent, which is executed
				// and answered before the connection closes.
				_ = c.SetReadDeadline(aLongTimeAgo)
			}
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
	w := newConnWriter(c, tc, &s.cfg)
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
			w.drop() // past the hard limit: the client is dropped
		}
	}
	// Deferred calls run last first: the writer ends (what is queued is written), then the
	// shards forget what the connection watched, then the socket closes.
	defer c.parse.unwatch(c, s.rt, &sc, emit, nil)
	defer w.end()
	buf := make([]byte, readSize)
	for {
		n, err := tc.Read(buf)
		if n > 0 {
			w.mu.Lock()
			if c.out.broken {
				w.mu.Unlock()
				return // dropped by the writer: what it sent is not run
			}
			before := c.out.buf.len()
			c.parse.feed(c, buf[:n], s.rt, &sc, emit)
			w.flush(before)
			stop := c.out.broken || c.out.shutdown
			w.mu.Unlock()
			if stop {
				return // QUIT or a protocol error (the writer writes its reply), or dropped
			}
		}
		if err != nil {
			return
		}
	}
}

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
