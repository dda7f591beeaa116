package main

import (
	"net"
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
	s := &goroutineServer{cfg: cfg, ln: ln, rt: newRouter(cfg.lim, cfg.workers*shardsPerWorker), conns: make(map[*net.TCPConn]struct{})}
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
	defer func() {
		s.mu.Lock()
		if s.conns != nil {
			delete(s.conns, tc)
		}
		s.mu.Unlock()
		tc.Close()
	}()
	c := &conn{id: s.nextID.Add(1), fd: -1}
	var sc scratch
	emit := func(r request) { c.out.add(s.run(&r)) }
	buf := make([]byte, readSize)
	for {
		n, err := tc.Read(buf)
		if n > 0 {
			c.parse.feed(c, buf[:n], s.rt, &sc, emit)
			if len(c.out.buf) > 0 {
				if _, werr := tc.Write(c.out.buf); werr != nil {
					return
				}
			}
			c.out.written()
			if c.out.shutdown {
				return
			}
		}
		if err != nil {
			return
		}
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
