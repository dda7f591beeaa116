package bench

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/loopyring/loopyring/affinity"
)

// scale returns full, or small under -short.
func scale(full, small int) int {
	if testing.Short() {
		return small
	}
	return full
}

// testCaps are small rings, which make publishers block and stages sleep and wake often,
// and the default, which the runner and benchmarks use.
var testCaps = []int{16, DefaultCapacity}

func TestTopologiesDeliverEveryEntry(t *testing.T) {
	n := scale(50000, 5000)
	for _, tp := range Topologies() {
		for _, capacity := range testCaps {
			for _, side := range Sides {
				t.Run(fmt.Sprintf("%s/cap=%d/%s", tp.Name, capacity, side), func(t *testing.T) {
					res, err := tp.Run(side, Config{N: n, Capacity: capacity})
					if err != nil {
						t.Fatal(err)
					}
					if res.Entries != n || res.Elapsed <= 0 {
						t.Fatalf("result %+v: want %d entries and a positive elapsed time", res, n)
					}
				})
			}
		}
	}
}

// TestVerifierCatchesCorruption is what makes the other tests and every benchmark mean
// something: a payload written wrong by the publisher must fail the run, on both sides of
// every topology.
func TestVerifierCatchesCorruption(t *testing.T) {
	n := scale(20000, 3000)
	for _, tp := range Topologies() {
		for _, side := range Sides {
			t.Run(tp.Name+"/"+side.String(), func(t *testing.T) {
				_, err := tp.Run(side, Config{N: n, Capacity: 64, corrupt: int64(n/2) + 1})
				if err == nil || !strings.Contains(err.Error(), "1 of them bad") {
					t.Fatalf("run with entry %d corrupted: err %v, want one bad entry reported", n/2, err)
				}
			})
		}
	}
	for _, lt := range LatencyTests() {
		for _, side := range Sides {
			t.Run(lt.Name+"/"+side.String(), func(t *testing.T) {
				_, err := lt.Run(side, Config{N: 200, Rate: 100000, corrupt: 100})
				if err == nil || !strings.Contains(err.Error(), "1 of them bad") {
					t.Fatalf("run with entry 99 corrupted: err %v, want one bad entry reported", err)
				}
			})
		}
	}
}

func TestSeedWidths(t *testing.T) {
	n := scale(20000, 3000)
	for _, widths := range [][]int{{1}, {3}, {1, 1}, {3, 1, 5}, {2, 4, 8, 4}} {
		for _, side := range Sides {
			t.Run(fmt.Sprintf("%v/%s", widths, side), func(t *testing.T) {
				seed, _ := Lookup("seed")
				if _, err := seed.Run(side, Config{N: n, Capacity: 32, Widths: widths}); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestLatencyPercentiles(t *testing.T) {
	n := scale(2000, 300)
	for _, lt := range LatencyTests() {
		for _, side := range Sides {
			t.Run(lt.Name+"/"+side.String(), func(t *testing.T) {
				lat, err := lt.Run(side, Config{N: n, Rate: 50000})
				if err != nil {
					t.Fatal(err)
				}
				// Correction can only add values, never drop them.
				if lat.Count < int64(n) {
					t.Fatalf("recorded %d latencies, want at least %d", lat.Count, n)
				}
				if !(0 < lat.P50 && lat.P50 <= lat.P99 && lat.P99 <= lat.P999 && lat.P999 <= lat.Max) {
					t.Fatalf("percentiles out of order: %+v", lat)
				}
				if lat.Result.Entries != n {
					t.Fatalf("result counts %d entries, want %d", lat.Result.Entries, n)
				}
				checkCurve(t, lat)
			})
		}
	}
}

func TestPlacement(t *testing.T) {
	if _, err := affinity.ReadTopology(); errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no thread affinity on", runtime.GOOS)
	}
	n := scale(20000, 3000)
	for _, policy := range []affinity.Policy{affinity.Compact, affinity.Spread} {
		for _, name := range []string{"unicast", "pipeline"} {
			t.Run(fmt.Sprintf("%s/%v", name, policy), func(t *testing.T) {
				tp, _ := Lookup(name)
				if _, err := tp.Run(Loopy, Config{N: n, Placement: policy}); err != nil {
					t.Fatal(err)
				}
			})
		}
		t.Run(fmt.Sprintf("pingpong/%v", policy), func(t *testing.T) {
			if _, err := latencyTests[0].Run(Loopy, Config{N: 500, Placement: policy}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConfigRejected(t *testing.T) {
	tp, _ := Lookup("unicast")
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "entries 0"},
		{Config{N: 10, Capacity: 3}, "capacity 3"},
		{Config{N: 10, Widths: []int{2, 0}}, "seed widths"},
		{Config{N: 10, Rate: -1}, "rate -1"},
	} {
		_, err := tp.Run(Loopy, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%+v): err %v, want it to mention %q", tc.cfg, err, tc.want)
		}
		if _, err := latencyTests[1].Run(Chan, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("latency Run(%+v): err %v, want it to mention %q", tc.cfg, err, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, tp := range Topologies() {
		if got, ok := Lookup(tp.Name); !ok || got.Name != tp.Name {
			t.Errorf("Lookup(%q) = %q, %v", tp.Name, got.Name, ok)
		}
	}
	if _, ok := Lookup("nope"); ok {
		t.Error(`Lookup("nope") found a topology`)
	}
}
