//go:build gc && !race && !loopyring_fenced

package ring

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestLightStoreOrder pins what light stores assume of the gc compiler (see
// fence_linux_amd64.go): that storePlain's store is emitted as one 8-byte
// store, in program order, after the slot writes before it and before the
// loads after it. It disassembles this test binary with go tool objdump and
// checks, matching instructions rather than addresses:
//
//   - in a single publisher's claim (core.claim's fast path and
//     claimSingleSlow, each with publishClaim inlined), the light store of
//     the claims' end is one MOVQ, and on every path from it the next access
//     to the ring is the load of the closed bit (Dekker's store→load, which
//     Close's heavyFence completes);
//   - in core.commit, the light stores of the cursor and of a slot's
//     availability mark are one MOVQ each, and nothing is called or loaded
//     from a waiter before the cursor's store on any path from the entry;
//   - in a publisher that writes a slot and commits it, the slot write comes
//     before the commit on every path.
//
// A compiler that split the store, or moved a load above it, fails here; so
// does one that stops inlining the helpers into them, which would cost every
// claim or commit a second call.
func TestLightStoreOrder(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to disassemble with")
	}
	var b Buffer[int64]
	slots := make([]int64, 2)
	b.slots, b.stride = unsafe.Pointer(&slots[0]), unsafe.Sizeof(slots[0])
	b.mask = 1
	b.pub.end.Store(1)
	publishOne(&b, 0) // linked into the binary, and checked to work

	// go test strips its binaries' symbol tables, so this one cannot be
	// disassembled: build it again (from the build cache, but for the
	// link) with them.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "ring.test")
	if out, err := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	const pkg = `github\.com/loopyring/loopyring/ring\.`
	out, err := exec.CommandContext(ctx, "go", "tool", "objdump",
		"-s", `^`+pkg+`(\(\*core\)\.(claim|claimSingleSlow|commit)|publishOne)$`, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool objdump: %v\n%s", err, out)
	}
	funcs := parseObjdump(string(out))
	if funcs["publishOne"] == nil {
		t.Skipf("no symbols for this package's functions in the test binary (stripped?); objdump said:\n%.2000s", out)
	}
	if funcs["publishOne"].calls("At") {
		t.Skip("publishOne calls Buffer.At: built without inlining, where the stores are not written out")
	}
	for _, name := range []string{"(*core).claim", "(*core).claimSingleSlow", "(*core).commit"} {
		f := funcs[name]
		if f == nil {
			t.Fatalf("no %s in the disassembly", name)
		}
		for _, helper := range []string{"storeSeq", "storeLight", "storePlain", "publishClaim", "retractClaim", "tryClaimMulti", "markAvail"} {
			if f.calls(helper) {
				t.Fatalf("%s calls %s, which should be inlined into it:\n%s", name, helper, f)
			}
		}
	}

	var c core
	var s sequence
	endOff := unsafe.Offsetof(c.pub) + unsafe.Offsetof(c.pub.end)
	claimedOff := unsafe.Offsetof(c.claimed) + unsafe.Offsetof(s.v)
	cursorOff := unsafe.Offsetof(c.cursor) + unsafe.Offsetof(s.v)

	for _, name := range []string{"(*core).claim", "(*core).claimSingleSlow"} {
		t.Run(name, func(t *testing.T) {
			f := funcs[name]
			stores := f.find(func(in inst) bool { _, _, ok := in.plainStore(endOff); return ok })
			if len(stores) != 1 {
				t.Fatalf("%d plain 8-byte stores of the claims' end (offset %#x), want 1:\n%s", len(stores), endOff, f)
			}
			_, base, _ := f.insts[stores[0]].plainStore(endOff)
			isCheck := func(in inst) bool { return in.load(claimedOff, base) }
			if err := f.allPathsReach(stores[0]+1, isCheck, base, endOff); err != nil {
				t.Fatalf("after the light store of the end: %v\n%s", err, f)
			}
		})
	}

	t.Run("(*core).commit", func(t *testing.T) {
		f := funcs["(*core).commit"]
		stores := f.find(func(in inst) bool { _, _, ok := in.plainStore(cursorOff); return ok })
		if len(stores) != 1 {
			t.Fatalf("%d plain 8-byte stores of the cursor (offset %#x), want 1:\n%s", len(stores), cursorOff, f)
		}
		if err := f.noCallOrWaiterLoadBefore(stores[0]); err != nil {
			t.Fatalf("before the light store of the cursor: %v\n%s", err, f)
		}
		marks := f.find(func(in inst) bool { return in.markStore() })
		if len(marks) != 1 {
			t.Fatalf("%d plain 8-byte stores through a computed pointer (the availability marks), want 1:\n%s", len(marks), f)
		}
	})

	t.Run("publishOne", func(t *testing.T) {
		f := funcs["publishOne"]
		writes := f.find(func(in inst) bool { return strings.HasPrefix(in.text, "MOVQ $0x5a5a5a5, ") })
		if len(writes) != 1 {
			t.Fatalf("%d stores of the slot's value, want 1:\n%s", len(writes), f)
		}
		isCommit := func(in inst) bool {
			_, _, inlined := in.plainStore(cursorOff)
			return inlined || (in.op == "CALL" && strings.HasSuffix(in.text, ".(*core).commit(SB)"))
		}
		if err := f.allPathsReach(writes[0]+1, isCommit, "", 0); err != nil {
			t.Fatalf("after the slot write: %v\n%s", err, f)
		}
	})
}

// publishOne writes a slot and commits it, as a publisher does; the test
// finds the slot write by its value.
//
//go:noinline
func publishOne(b *Buffer[int64], lo int64) {
	*b.At(lo) = 0x5a5a5a5
	b.Commit(lo, 1)
}

// inst is one disassembled instruction.
type inst struct {
	addr uint64
	op   string // the mnemonic, with a LOCK prefix joined to it ("LOCK XADDQ")
	text string // the whole instruction
}

// funcDump is one function's disassembly.
type funcDump struct {
	name  string
	insts []inst
	index map[uint64]int // address to position in insts
}

func (f *funcDump) String() string {
	var sb strings.Builder
	for _, in := range f.insts {
		fmt.Fprintf(&sb, "\t%#x\t%s\n", in.addr, in.text)
	}
	return sb.String()
}

// parseObjdump splits go tool objdump's output into functions, named without
// this package's path.
func parseObjdump(out string) map[string]*funcDump {
	funcs := map[string]*funcDump{}
	var f *funcDump
	for line := range strings.Lines(out) {
		if name, ok := strings.CutPrefix(line, "TEXT "); ok {
			name, _, _ = strings.Cut(name, "(SB)")
			name = strings.TrimPrefix(name, "github.com/loopyring/loopyring/ring.")
			f = &funcDump{name: name, index: map[uint64]int{}}
			funcs[name] = f
			continue
		}
		var fields []string
		for fl := range strings.SplitSeq(strings.TrimSpace(line), "\t") {
			if fl = strings.TrimSpace(fl); fl != "" {
				fields = append(fields, fl)
			}
		}
		if f == nil || len(fields) < 4 {
			continue
		}
		addr, err := strconv.ParseUint(strings.TrimPrefix(fields[1], "0x"), 16, 64)
		if err != nil {
			continue
		}
		text := fields[3]
		op, _, _ := strings.Cut(text, " ")
		if op == "LOCK" {
			rest := strings.TrimPrefix(text, "LOCK ")
			next, _, _ := strings.Cut(rest, " ")
			op = "LOCK " + next
		}
		f.index[addr] = len(f.insts)
		f.insts = append(f.insts, inst{addr: addr, op: op, text: text})
	}
	return funcs
}

func (f *funcDump) find(match func(inst) bool) []int {
	var at []int
	for i, in := range f.insts {
		if match(in) {
			at = append(at, i)
		}
	}
	return at
}

func (f *funcDump) calls(name string) bool {
	for _, in := range f.insts {
		if in.op == "CALL" && strings.Contains(in.text, "."+name+"(SB)") {
			return true
		}
	}
	return false
}

var (
	memOperand   = regexp.MustCompile(`(-?0x[0-9a-f]+|-?\d+|[\w./*()]+[+-]\d+)?\((\w+)\)(\(\w+\*\d\))?`)
	plainStoreRe = regexp.MustCompile(`^MOVQ (\w+), (0x[0-9a-f]+|\d+)\((\w+)\)$`)
	loadRe       = regexp.MustCompile(`^MOVQ (0x[0-9a-f]+|\d+)\((\w+)\), \w+$`)
)

func parseOff(s string) uintptr {
	if s == "" {
		return 0
	}
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), map[bool]int{true: 16, false: 10}[strings.HasPrefix(s, "0x")], 64)
	if err != nil {
		return ^uintptr(0)
	}
	return uintptr(v)
}

// plainStore reports whether in is a plain 8-byte store of a register to
// off(base), and which register and base.
func (in inst) plainStore(off uintptr) (src, base string, ok bool) {
	m := plainStoreRe.FindStringSubmatch(in.text)
	if m == nil || parseOff(m[2]) != off {
		return "", "", false
	}
	return m[1], m[3], true
}

// load reports whether in is an 8-byte load from off(base).
func (in inst) load(off uintptr, base string) bool {
	m := loadRe.FindStringSubmatch(in.text)
	return m != nil && parseOff(m[1]) == off && m[2] == base
}

// markStore reports whether in is a plain 8-byte store through a pointer held in a
// register, at offset 0: how a multi-publisher commit stores an availability mark,
// whose address (in the slot's cell) it computes first.
func (in inst) markStore() bool {
	m := plainStoreRe.FindStringSubmatch(in.text)
	return m != nil && parseOff(m[2]) == 0 && m[3] != "SP" && m[3] != "BP"
}

// memAccess reports whether in touches memory other than the goroutine's
// stack frame and package variables, and where.
func (in inst) memAccess() (off uintptr, base string, ok bool) {
	if in.op == "LEAQ" || strings.HasPrefix(in.op, "NOP") {
		return 0, "", false // an address computed, or padding: no access
	}
	for _, m := range memOperand.FindAllStringSubmatch(in.text, -1) {
		switch m[2] {
		case "SP", "BP", "SB":
			continue
		}
		return parseOff(m[1]), m[2], true
	}
	return 0, "", false
}

// successors returns where control goes after insts[i], or an error for a
// path that leaves the function (a return, a call, a jump out).
func (f *funcDump) successors(i int) ([]int, error) {
	in := f.insts[i]
	target := func() (int, error) {
		a, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(in.text, in.op+" "), "0x"), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("%#x: indirect jump %q", in.addr, in.text)
		}
		j, ok := f.index[a]
		if !ok {
			return 0, fmt.Errorf("%#x: jump out of the function: %q", in.addr, in.text)
		}
		return j, nil
	}
	switch {
	case in.op == "RET" || in.op == "CALL" || in.op == "UD2" || in.op == "INT":
		return nil, fmt.Errorf("%#x: %q", in.addr, in.text)
	case in.op == "JMP":
		j, err := target()
		return []int{j}, err
	case strings.HasPrefix(in.op, "J"):
		j, err := target()
		return []int{j, i + 1}, err
	}
	return []int{i + 1}, nil
}

// allPathsReach checks that every path from insts[from] reaches an
// instruction for which goal holds before it returns, calls anything or
// touches memory; with a base, a locked read-modify-write of off(base) (the
// fence storeLight adds once light stores are revoked) may come first.
func (f *funcDump) allPathsReach(from int, goal func(inst) bool, base string, off uintptr) error {
	seen := map[int]bool{}
	var walk func(i int) error
	walk = func(i int) error {
		if i >= len(f.insts) {
			return fmt.Errorf("runs off the end of the function")
		}
		if seen[i] {
			return nil
		}
		seen[i] = true
		in := f.insts[i]
		if goal(in) {
			return nil
		}
		if o, b, ok := in.memAccess(); ok && !(base != "" && strings.HasPrefix(in.op, "LOCK ") && o == off && b == base) {
			return fmt.Errorf("%#x: %q touches memory first", in.addr, in.text)
		}
		next, err := f.successors(i)
		if err != nil {
			return fmt.Errorf("a path ends first: %v", err)
		}
		for _, j := range next {
			if err := walk(j); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(from)
}

// noCallOrWaiterLoadBefore checks that no path from the function's entry to
// insts[to] calls anything but a panic or makes a 4-byte load
// (PhasedWaiter.sleepers is an atomic.Int32): the waking comes after the
// store. An instruction is on such a path if the entry reaches it without
// passing the store, and it reaches the store.
func (f *funcDump) noCallOrWaiterLoadBefore(to int) error {
	flow := func(i int) []int {
		in := f.insts[i]
		switch {
		case in.op == "RET" || in.op == "UD2" || in.op == "INT":
			return nil
		case in.op == "CALL" && (strings.Contains(in.text, ".panic") || strings.Contains(in.text, "runtime.morestack")):
			return nil // does not come back (morestack restarts the function)
		case in.op == "CALL":
			return []int{i + 1}
		}
		next, err := f.successors(i)
		if err != nil {
			return nil
		}
		return next
	}
	reached := map[int]bool{}
	hit := false
	var forward func(i int)
	forward = func(i int) {
		hit = hit || i == to
		if i == to || i >= len(f.insts) || reached[i] {
			return
		}
		reached[i] = true
		for _, j := range flow(i) {
			forward(j)
		}
	}
	forward(0)
	if !hit {
		return fmt.Errorf("no path from the entry reaches %q", f.insts[to].text)
	}
	reaches := map[int]bool{to: true}
	for changed := true; changed; {
		changed = false
		for i := range f.insts {
			if reaches[i] {
				continue
			}
			for _, j := range flow(i) {
				if reaches[j] {
					reaches[i], changed = true, true
					break
				}
			}
		}
	}
	for i, in := range f.insts {
		if !reached[i] || !reaches[i] {
			continue
		}
		if in.op == "CALL" && !strings.Contains(in.text, ".panic") && !strings.Contains(in.text, "runtime.morestack") {
			return fmt.Errorf("%#x: %q", in.addr, in.text)
		}
		if _, _, ok := in.memAccess(); ok && strings.HasPrefix(in.op, "MOVL") {
			return fmt.Errorf("%#x: a 4-byte load, %q", in.addr, in.text)
		}
	}
	return nil
}
