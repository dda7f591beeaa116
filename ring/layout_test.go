package ring

import (
	"math"
	"reflect"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// TestPadding checks that the counters written by different threads sit on
// different cache lines: every pair of hot fields is at least a cache line
// apart, and each padded sequence extends a full line on both sides of its
// value (so neighbours in memory outside the struct cannot share its line).
func TestPadding(t *testing.T) {
	line := unsafe.Sizeof(cpu.CacheLinePad{})
	if line < 32 {
		t.Fatalf("cache line pad of %d bytes", line)
	}
	var s sequence
	if off := unsafe.Offsetof(s.v); off < line {
		t.Errorf("sequence value at offset %d, want >= %d", off, line)
	}
	if after := unsafe.Sizeof(s) - unsafe.Offsetof(s.v) - unsafe.Sizeof(s.v); after < line {
		t.Errorf("sequence has %d bytes after its value, want >= %d", after, line)
	}

	var c core
	base := func(off uintptr) uintptr { return off + unsafe.Offsetof(s.v) }
	hot := map[string]uintptr{
		"cursor":    base(unsafe.Offsetof(c.cursor)),
		"claimed":   base(unsafe.Offsetof(c.claimed)),
		"gateCache": base(unsafe.Offsetof(c.gateCache)),
		"pub.end":   unsafe.Offsetof(c.pub) + unsafe.Offsetof(c.pub.end),
		"pub.ready": unsafe.Offsetof(c.pub) + unsafe.Offsetof(c.pub.ready),
		"readers":   unsafe.Offsetof(c.readers), // the read-mostly fields
		"size":      unsafe.Offsetof(c.size),
	}
	for n1, o1 := range hot {
		for n2, o2 := range hot {
			if n1 >= n2 || (n1 == "readers" && n2 == "size") || (n1 == "pub.end" && n2 == "pub.ready") {
				continue // same writer (or nobody writes): sharing a line is fine
			}
			if d := max(o1, o2) - min(o1, o2); d < line {
				t.Errorf("core.%s and core.%s are %d bytes apart, want >= %d", n1, n2, d, line)
			}
		}
	}
	if end := unsafe.Sizeof(c) - (unsafe.Offsetof(c.pub) + unsafe.Offsetof(c.pub.ready)); end < line {
		t.Errorf("single publisher state is %d bytes from the end of core, want >= %d", end, line)
	}

	var r Reader
	rseq := base(unsafe.Offsetof(r.seq))
	for name, off := range map[string]uintptr{
		"next":  unsafe.Offsetof(r.next),
		"avail": unsafe.Offsetof(r.avail),
		"c":     unsafe.Offsetof(r.c),
	} {
		if d := max(rseq, off) - min(rseq, off); d < line {
			t.Errorf("Reader.seq and Reader.%s are %d bytes apart, want >= %d", name, d, line)
		}
	}
}

// TestAtomicInt64Layout pins what storePlain (sequence.go) assumes when it
// stores through *(*int64)(unsafe.Pointer(p)) for p an *atomic.Int64: the type
// is exactly one int64, at offset 0, with nothing else that has a size. If
// sync/atomic ever adds a field with a size, or moves the value, light stores
// would write the wrong word and this test fails.
func TestAtomicInt64Layout(t *testing.T) {
	var a atomic.Int64
	if size := unsafe.Sizeof(a); size != 8 {
		t.Fatalf("atomic.Int64 is %d bytes, want 8", size)
	}
	typ := reflect.TypeFor[atomic.Int64]()
	var values int
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch {
		case f.Type.Size() == 0:
		case f.Type.Kind() == reflect.Int64 && f.Offset == 0:
			values++
		default:
			t.Errorf("atomic.Int64 field %s (%v, %d bytes at offset %d): want only zero-size fields besides an int64 at offset 0",
				f.Name, f.Type, f.Type.Size(), f.Offset)
		}
	}
	if values != 1 {
		t.Fatalf("atomic.Int64 has %d int64 fields at offset 0, want 1", values)
	}
	// And the cast reads and writes what Load and Store do, in both directions.
	for _, v := range []int64{1, -1, math.MaxInt64, math.MinInt64, 0x0102030405060708} {
		storePlain(&a, v)
		if got := a.Load(); got != v {
			t.Fatalf("storePlain(%#x): Load = %#x", v, got)
		}
		a.Store(^v)
		if got := *(*int64)(unsafe.Pointer(&a)); got != ^v {
			t.Fatalf("Store(%#x): the cast reads %#x", ^v, got)
		}
	}
}
