package flow

import "slices"

// A Stream is the typed output of one or more levels: what the next level reads. Streams are
// values of the builder, used before Start; every method that adds a level returns the
// stream of the new level, so that chains read left to right and a mismatched edge is a
// compile error.
//
// Attaching two levels to the same stream fans out: each level sees every entry. Merge fans
// in. KeyBy and Broadcast choose how the next level divides entries among its stages; by
// default each entry goes to exactly one stage.
type Stream[T any] struct {
	g     *Graph
	edges []edge
	route route
	key   func(T) uint64
	part  func(T) int
	// nilRoute: KeyBy or PartitionBy was given a nil function; the level attached next
	// reports it (see attach).
	nilRoute string
}

func newStream[T any](lv *level) *Stream[T] {
	return &Stream[T]{g: lv.g, edges: []edge{{from: lv}}}
}

// KeyBy returns the stream with key routing: the next level sends each entry to the stage
// that key(entry) selects, so entries with equal keys always reach the same stage, in the
// order their upstream stage published them. Keys are mixed before use, so small or
// sequential keys spread well. Every stage of the next level calls key on every entry, to
// pick out its own, so key must be a pure function of the entry (one that answers
// differently for the same entry loses or duplicates it) and cheap.
func (s *Stream[T]) KeyBy(key func(T) uint64) *Stream[T] {
	c := *s
	c.route, c.key, c.part, c.nilRoute = routeKey, key, nil, ""
	if key == nil {
		c.nilRoute = "KeyBy with a nil key function"
	}
	return &c
}

// PartitionBy returns the stream with explicit partitioning: the next level sends each
// entry to stage part(entry) mod n, where n is that level's width. Use it where the caller
// must know which stage owns an entry (shards that split a request across stages); KeyBy is
// the better choice where any even spread will do. Like KeyBy's key, part is called by every
// stage of the next level on every entry, and must be a pure function of the entry.
func (s *Stream[T]) PartitionBy(part func(T) int) *Stream[T] {
	c := *s
	c.route, c.key, c.part, c.nilRoute = routePartition, nil, part, ""
	if part == nil {
		c.nilRoute = "PartitionBy with a nil partition function"
	}
	return &c
}

// Broadcast returns the stream with broadcast routing: every stage of the next level sees
// every entry.
func (s *Stream[T]) Broadcast() *Stream[T] {
	c := *s
	c.route, c.key, c.part, c.nilRoute = routeBroadcast, nil, nil, ""
	return &c
}

// Merge returns a stream that carries the entries of every given stream: a level attached
// to it reads all of them (fan-in). Streams over the same rings (phases of one level)
// combine into one attachment that waits for all of their phases, which is how a diamond of
// phases is closed. The result has the default (shared) routing. A nil stream among others
// is misuse that Start reports; Merge panics when given no stream, or only nil ones, since
// there is then no graph to report it to.
func Merge[T any](streams ...*Stream[T]) *Stream[T] {
	first := slices.IndexFunc(streams, func(s *Stream[T]) bool { return s != nil })
	if first < 0 {
		panic("flow: Merge needs at least one stream that is not nil")
	}
	m := &Stream[T]{g: streams[first].g}
	for _, s := range streams {
		if s == nil {
			m.g.misuse("flow: Merge of a nil stream")
			continue
		}
		if s.g != m.g {
			m.g.misuse("flow: Merge of streams from different graphs")
			continue
		}
		if s.nilRoute != "" { // the merged stream drops the routing, not its misuse
			m.g.misuse("flow: %s", s.nilRoute)
		}
		for _, e := range s.edges {
			m.edges = mergeEdge(m.edges, e)
		}
	}
	return m
}

func mergeEdge(edges []edge, e edge) []edge {
	for i := range edges {
		if edges[i].from == e.from {
			edges[i].after = slices.Clone(edges[i].after)
			for _, ph := range e.after {
				if !slices.Contains(edges[i].after, ph) {
					edges[i].after = append(edges[i].after, ph)
				}
			}
			return edges
		}
	}
	return append(edges, edge{from: e.from, after: slices.Clone(e.after)})
}

// attach adds a level that reads s, checking that s belongs to a graph.
func (s *Stream[T]) attach(kind levelKind, n int, opts []Option, r roles) *level {
	if s.nilRoute != "" {
		opts = invalid(opts, "%s", s.nilRoute)
	}
	edges := make([]edge, len(s.edges))
	copy(edges, s.edges)
	return s.g.addLevel(kind, n, opts, edges, s.route, r)
}
