package ring

import (
	"sync/atomic"

	"golang.org/x/sys/cpu"
)

// A sequence is a counter that one goroutine writes and others read, alone on its
// cache line. Sequences are "next" positions: a value of s means every sequence
// below s has been claimed, committed or released (depending on the counter).
//
// The padding on both sides keeps a store to one counter from invalidating the
// line that holds another hot field (false sharing): the publisher's cursor and
// each reader's sequence are written by different threads at the rate of the
// traffic, and without padding they ping-pong one line between cores on every
// batch. A single leading pad would protect the value only from what precedes it
// in memory; the trailing pad protects it from whatever the allocator or the
// enclosing struct places after it.
type sequence struct {
	_ cpu.CacheLinePad
	v atomic.Int64
	_ cpu.CacheLinePad
}

// noCopy makes go vet's copylocks check flag copies of the structs that embed
// it. A copied Buffer or Reader would split its counters in two and silently
// lose entries; the check costs nothing at run time.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
