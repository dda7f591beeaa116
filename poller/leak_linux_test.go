package poller

import (
	"os"
	"testing"
)

// TestNoDescriptorLeak opens and closes many loops and compares the process's
// open descriptors before and after.
func TestNoDescriptorLeak(t *testing.T) {
	count := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip(err)
		}
		return len(ents)
	}
	before := count()
	for range scale(200) {
		l, err := New()
		if err != nil {
			t.Fatal(err)
		}
		l.Wake()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := count(); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
	// And a loop does hold descriptors while open, or the check above is void.
	l := newLoop(t)
	if open := count(); open <= before {
		t.Fatalf("an open loop holds no descriptor (%d before, %d now)", before, open)
	}
	_ = l
}
