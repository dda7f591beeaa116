package bench

import (
	"math"
	"runtime"
	"testing"
	"time"
)

func TestLineRoundTrip(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2")
	}
	// Any real machine moves a line there and back in well under a millisecond; the limit
	// only keeps a stalled run from hanging the test.
	d := LineRoundTrip(2_000, 10*time.Second)
	if d <= 0 || d >= time.Millisecond {
		t.Fatalf("round trip %v, want between 0 and 1ms", d)
	}
}

func TestLineRoundTripGivesUp(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2")
	}
	start := time.Now()
	// Far more round trips than a millisecond holds: stopped by the limit.
	if d, ok := bounce(math.MaxInt32, time.Millisecond); ok {
		t.Fatalf("bounce of 2^31 round trips finished in %v", d)
	}
	if d := LineRoundTrip(math.MaxInt32, time.Millisecond); d != 0 {
		t.Fatalf("LineRoundTrip past its limit = %v, want 0", d)
	}
	if el := time.Since(start); el > time.Minute {
		t.Fatalf("giving up took %v", el)
	}
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	if d := LineRoundTrip(10, time.Second); d != 0 {
		t.Fatalf("LineRoundTrip with GOMAXPROCS 1 = %v, want 0", d)
	}
}
