//go:build !linux

package affinity

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestUnsupported(t *testing.T) {
	if _, err := Allowed(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Allowed() error = %v; want ErrUnsupported", err)
	}
	if _, err := Current(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Current() error = %v; want ErrUnsupported", err)
	}
	if err := Pin(0); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Pin(0) error = %v; want ErrUnsupported", err)
	}
	if _, err := ReadTopology(); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ReadTopology() error = %v; want ErrUnsupported", err)
	}
	if err := SetTimerSlack(time.Microsecond); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SetTimerSlack(1µs) error = %v; want ErrUnsupported", err)
	}
}

func TestOnlineFallback(t *testing.T) {
	online, err := Online()
	if err != nil || len(online) != runtime.NumCPU() {
		t.Fatalf("Online() = %v, %v; want %d CPUs", online, err, runtime.NumCPU())
	}
	for i, c := range online {
		if c != i {
			t.Fatalf("Online() = %v; want 0..%d", online, runtime.NumCPU()-1)
		}
	}
	// Planning does not need the platform.
	topo, err := LoadTopology(os.DirFS("testdata/smt8"), online[:1])
	if err != nil || len(topo.CPUs) != 1 {
		t.Errorf("LoadTopology = %v, %v", topo, err)
	}
}
