package bench

import (
	"math"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

func TestPercentileGrid(t *testing.T) {
	for _, tc := range []struct {
		k       int
		percent float64
	}{{0, 0}, {20, 90}, {40, 99}, {60, 99.9}, {80, 99.99}, {10, 100 * (1 - 1/math.Sqrt(10))}} {
		if got := PercentileGrid(tc.k); math.Abs(got-tc.percent) > 1e-9 {
			t.Errorf("PercentileGrid(%d) = %v, want %v", tc.k, got, tc.percent)
		}
		if got := Nines(PercentileGrid(tc.k)); math.Abs(got-float64(tc.k)/percentileSteps) > 1e-9 {
			t.Errorf("Nines(PercentileGrid(%d)) = %v, want %v", tc.k, got, float64(tc.k)/percentileSteps)
		}
	}
}

// percentiles of 1 to 1000 ns, each once: the grid goes to 99.9%, the last percentile
// 1000 values resolve, and each point is the value of that rank.
func TestPercentilesOfKnownValues(t *testing.T) {
	h := hdrhistogram.New(1, int64(100*time.Second), 3)
	if p := percentiles(h); p != nil {
		t.Fatalf("an empty histogram has percentiles %v", p)
	}
	for v := int64(1); v <= 1000; v++ {
		_ = h.RecordValue(v)
	}
	p := percentiles(h)
	if len(p) != 61 {
		t.Fatalf("%d points, want 61 (0 to 3 nines in steps of 1/20)", len(p))
	}
	for k, want := range map[int]time.Duration{0: 1, 20: 900, 40: 990, 60: 999} {
		if got := p[k].Value; got != want {
			t.Errorf("point %d (%.4g%%) = %v, want %v", k, p[k].Percent, got, want)
		}
	}
	h.Reset()
	for range 5 {
		_ = h.RecordValue(7)
	}
	if p := percentiles(h); len(p) != 14 || p[13].Value != 7 {
		t.Errorf("5 values: %v, want 14 points (to 0.65 nines), all 7ns", p)
	}
}

// checkCurve checks a run's distribution: it starts at 0%, resolves as far as its count
// allows, rises, and stays within the run's maximum.
func checkCurve(t *testing.T, lat Latency) {
	t.Helper()
	p := lat.Percentiles
	if want := int(math.Log10(float64(lat.Count))*percentileSteps) + 1; len(p) != want {
		t.Fatalf("%d percentile points for %d values, want %d", len(p), lat.Count, want)
	}
	if p[0].Percent != 0 || p[0].Value <= 0 {
		t.Fatalf("the curve starts at %+v, want the minimum, at 0%%", p[0])
	}
	for k := 1; k < len(p); k++ {
		if p[k].Percent <= p[k-1].Percent || p[k].Value < p[k-1].Value {
			t.Fatalf("the curve falls between %+v and %+v", p[k-1], p[k])
		}
	}
	if last := p[len(p)-1].Value; last > lat.Max {
		t.Fatalf("the curve ends at %v, above the maximum %v", last, lat.Max)
	}
}
