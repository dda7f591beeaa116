package bench

import (
	"fmt"
	"testing"
	"time"

	"github.com/loopyring/loopyring/flow"
)

// The benchmarks run the same functions as the loopybench runner. One op is one entry (one
// round trip for ping-pong); the baseline is a sibling sub-benchmark, so
//
//	go test -run '^$' -bench . -count 10 ./benchmarks > new.txt
//	benchstat -col /side new.txt
//
// puts loopyring and channels side by side per topology and capacity.

// benchCaps are the ring capacities (and channel buffers) each topology runs at: flow's
// default, and a small ring, where sleeps and wakes (thread switches) dominate on a host
// with fewer cores than stages.
var benchCaps = []int{1024, DefaultCapacity}

func benchTopology(b *testing.B, name string) {
	tp, ok := Lookup(name)
	if !ok {
		b.Fatalf("no topology %q", name)
	}
	for _, capacity := range benchCaps {
		for _, side := range Sides {
			b.Run(fmt.Sprintf("cap=%d/side=%s", capacity, side), func(b *testing.B) {
				b.ReportAllocs()
				res, err := tp.run(side, Config{N: b.N, Capacity: capacity}, b)
				if err != nil {
					b.Fatal(err)
				}
				if res.CPU > 0 {
					b.ReportMetric(float64(res.CPUPerEntry().Nanoseconds()), "cpu-ns/op")
				}
			})
		}
	}
}

func BenchmarkUnicast(b *testing.B)   { benchTopology(b, "unicast") }
func BenchmarkPipeline(b *testing.B)  { benchTopology(b, "pipeline") }
func BenchmarkMulticast(b *testing.B) { benchTopology(b, "multicast") }
func BenchmarkDiamond(b *testing.B)   { benchTopology(b, "diamond") }
func BenchmarkSequencer(b *testing.B) { benchTopology(b, "sequencer") }
func BenchmarkSeed(b *testing.B)      { benchTopology(b, "seed") }

func benchLatency(b *testing.B, test LatencyTest, cfg Config) {
	for _, side := range Sides {
		b.Run("side="+side.String(), func(b *testing.B) {
			b.ReportAllocs()
			c := cfg
			c.N = b.N
			lat, err := test.run(side, c, b)
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range []struct {
				d    time.Duration
				unit string
			}{{lat.P50, "p50-ns"}, {lat.P99, "p99-ns"}, {lat.P999, "p99.9-ns"}, {lat.Max, "max-ns"}} {
				b.ReportMetric(float64(m.d.Nanoseconds()), m.unit)
			}
		})
	}
}

// BenchmarkPingPong: ns/op is the mean round trip.
func BenchmarkPingPong(b *testing.B) { benchLatency(b, latencyTests[0], Config{}) }

// BenchmarkPipelineLatency offers DefaultRate entries a second: ns/op is the pacing
// interval, and the latency is in the percentile metrics. It runs flow in each mode, each
// with its channel baseline beside it: a hop to a sleeping dedicated stage is a kernel
// thread wake, one to a shared stage a goroutine wake.
func BenchmarkPipelineLatency(b *testing.B) {
	for _, mode := range []flow.Mode{flow.Auto, flow.Dedicated, flow.Shared} {
		b.Run("mode="+mode.String(), func(b *testing.B) {
			benchLatency(b, latencyTests[1], Config{Rate: DefaultRate, Mode: mode})
		})
	}
}
