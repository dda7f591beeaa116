package ring

import (
	"sync/atomic"
	"unsafe"

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

// storeSeq stores v in p, which a publisher owns: with a light store if
// light, else with a fenced one (see fence_linux_amd64.go for when a ring may
// use light stores).
func storeSeq(p *atomic.Int64, v int64, light bool) {
	if light {
		storeLight(p, v)
	} else {
		p.Store(v)
	}
}

// storePlain stores v in p with a plain 8-byte store, as if p were an *int64.
// sync/atomic does not promise that an atomic.Int64 is one int64 at offset 0,
// with nothing else that has a size; TestAtomicInt64Layout pins it, and this
// is the one place that relies on it. To the Go memory model a plain store is
// a data race with the atomic loads of p: only storeLight uses it, on
// linux/amd64, where the hardware and the gc compiler give it release order.
func storePlain(p *atomic.Int64, v int64) { *(*int64)(unsafe.Pointer(p)) = v }

// noCopy makes go vet's copylocks check flag copies of the structs that embed
// it. A copied Buffer or Reader would split its counters in two and silently
// lose entries; the check costs nothing at run time.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
