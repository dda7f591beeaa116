package bench

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// A Percentile is one point of a latency distribution: Percent of the values recorded were
// at most Value.
type Percentile struct {
	Percent float64
	Value   time.Duration
}

// percentileSteps is how many grid points each nine gets: 0 to 90% is one nine, 90 to 99%
// the next. Twenty show where a tail bends without making a report long.
const percentileSteps = 20

// PercentileGrid returns the percentile of grid point k: 100·(1 − 10^(−k/20)), which puts
// the points evenly on a "nines" axis (0, 90, 99, 99.9, ... at k = 0, 20, 40, 60), so
// that P99 and P99.9 are grid points; P50 is not, the tables carry it.
func PercentileGrid(k int) float64 {
	return 100 * (1 - math.Pow(10, -float64(k)/percentileSteps))
}

// Nines is the inverse of the grid's spacing: how many nines a percentile has, −log10(1 −
// p/100); 0 for 0%, 2 for 99%. It is the x coordinate of a point on a nines axis.
func Nines(percent float64) float64 {
	return -math.Log10(1 - percent/100)
}

// percentiles samples h on the grid up to the last point its count resolves: beyond
// 1 − 1/count every percentile is the maximum, which Latency.Max already says.
func percentiles(h *hdrhistogram.Histogram) []Percentile {
	n := h.TotalCount()
	if n == 0 {
		return nil
	}
	last := int(math.Floor(math.Log10(float64(n)) * percentileSteps))
	out := make([]Percentile, 0, last+1)
	for k := 0; k <= last; k++ {
		p := PercentileGrid(k)
		out = append(out, Percentile{Percent: p, Value: time.Duration(h.ValueAtQuantile(p))})
	}
	return out
}
