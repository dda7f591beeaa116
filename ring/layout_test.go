package ring

import (
	"math"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
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

// TestMarkLayout checks where a multi-publisher ring keeps its availability marks:
// beside each entry, in the entry's cell, when its commits are fenced (Fenced, or a
// platform or build without light stores), and eight to a line in an array of their own
// otherwise; and that no slot's bytes and no mark's overlap another's, for entry types of
// several sizes.
func TestMarkLayout(t *testing.T) {
	t.Run("byte", func(t *testing.T) { checkMarkLayout[byte](t) })
	t.Run("int64", func(t *testing.T) { checkMarkLayout[int64](t) })
	t.Run("empty", func(t *testing.T) { checkMarkLayout[struct{}](t) })
	t.Run("56 bytes", func(t *testing.T) { checkMarkLayout[[7]int64](t) })
	t.Run("string", func(t *testing.T) { checkMarkLayout[string](t) })
}

func checkMarkLayout[T any](t *testing.T) {
	const capacity = 16
	type span struct {
		what     string
		seq      int64
		from, to uintptr // [from, to)
	}
	for _, fenced := range []bool{false, true} {
		opts := []Option{MultiPublisher()}
		if fenced {
			opts = append(opts, Fenced())
		}
		b, err := New[T](capacity, opts...)
		if err != nil {
			t.Fatal(err)
		}
		beside := fenced || !lightAvailable()
		size := unsafe.Sizeof(*new(T))
		var spans []span
		for seq := range int64(capacity) {
			slot, mark := uintptr(unsafe.Pointer(b.At(seq))), uintptr(unsafe.Pointer(b.availAt(seq)))
			if b.At(seq+capacity) != b.At(seq) || b.availAt(seq+capacity) != b.availAt(seq) {
				t.Fatalf("fenced=%v: sequence %d and %d have different slots or marks", fenced, seq, seq+capacity)
			}
			if got := b.availAt(seq).Load(); got != -1 {
				t.Fatalf("fenced=%v: mark of %d holds %d before any commit, want -1", fenced, seq, got)
			}
			spans = append(spans, span{"slot", seq, slot, slot + size}, span{"mark", seq, mark, mark + 8})
			if beside {
				if mark < slot || mark+8 > slot+unsafe.Sizeof(cell[T]{}) {
					t.Fatalf("fenced=%v: mark of %d is %d bytes from its entry, want it in the entry's cell", fenced, seq, int64(mark)-int64(slot))
				}
			} else if mark != uintptr(unsafe.Pointer(b.availAt(0)))+uintptr(seq)*8 {
				t.Fatalf("fenced=%v: mark of %d is not in a dense array of marks", fenced, seq)
			}
		}
		for i, x := range spans {
			for _, y := range spans[i+1:] {
				if x.from < y.to && y.from < x.to { // empty slots overlap nothing
					t.Fatalf("fenced=%v: the %s of %d [%#x, %#x) overlaps the %s of %d [%#x, %#x)",
						fenced, x.what, x.seq, x.from, x.to, y.what, y.seq, y.from, y.to)
				}
			}
		}
	}
}

// TestCellsKeepPointers checks that entries holding pointers stay alive through
// collections in both layouts of a multi-publisher ring: the slots are reached through an
// unsafe.Pointer to a typed array, which the collector must still scan. Each entry points
// at an object with a cleanup that records its collection.
func TestCellsKeepPointers(t *testing.T) {
	for _, fenced := range []bool{false, true} {
		opts := []Option{MultiPublisher()}
		if fenced {
			opts = append(opts, Fenced())
		}
		b, err := New[*[64]int64](64, opts...)
		if err != nil {
			t.Fatal(err)
		}
		var collected atomic.Int64
		for seq := range int64(64) {
			v := new([64]int64)
			v[0], v[63] = seq, -seq
			runtime.AddCleanup(v, func(c *atomic.Int64) { c.Add(1) }, &collected)
			*b.At(seq) = v
		}
		for range 3 {
			runtime.GC()
		}
		if n := collected.Load(); n != 0 {
			t.Fatalf("fenced=%v: %d entries collected while the ring held them", fenced, n)
		}
		for seq := range int64(64) {
			if p := *b.At(seq); p[0] != seq || p[63] != -seq {
				t.Fatalf("fenced=%v: entry %d reads %d, %d after collections", fenced, seq, p[0], p[63])
			}
		}
		runtime.KeepAlive(b)
	}
}

// TestCleanupsRunInThisTest keeps TestCellsKeepPointers honest: the same entries, once
// dropped with their ring, are collected and their cleanups run, so that a zero count there
// means the ring kept them.
func TestCleanupsRunInThisTest(t *testing.T) {
	var collected atomic.Int64
	func() {
		b, err := New[*[64]int64](64, MultiPublisher(), Fenced())
		if err != nil {
			t.Fatal(err)
		}
		for seq := range int64(64) {
			v := new([64]int64)
			runtime.AddCleanup(v, func(c *atomic.Int64) { c.Add(1) }, &collected)
			*b.At(seq) = v
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for collected.Load() < 64 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if n := collected.Load(); n != 64 {
		t.Fatalf("%d of 64 dropped entries collected", n)
	}
}
