// Package bench compares loopyring with goroutines and buffered channels, side by side
// in one run, on the classic Disruptor topologies and on the seed's.
//
// Each topology is written once per side as a plain function that moves Config.N entries
// and verifies every one of them on the reading side; the testing.B benchmarks of this
// package and the loopybench runner (benchmarks/cmd/loopybench) call the same functions, so
// both measure exactly the same code. Both sides carry the same payload, with the same ring
// capacity and channel buffer and the same number of goroutines; a run whose payloads do
// not verify (lost, duplicated, reordered where order is promised, or corrupted) fails.
//
// # Usage
//
//	for _, t := range bench.Topologies() {
//		for _, side := range []bench.Side{bench.Loopy, bench.Chan} {
//			res, err := t.Run(side, bench.Config{N: 1 << 20, Capacity: 8192})
//			...
//			fmt.Println(t.Name, side, res.PerSecond())
//		}
//	}
//
//	for _, lt := range bench.LatencyTests() { // ping-pong; the paced pipeline, CO-corrected
//		lat, err := lt.Run(bench.Loopy, bench.Config{N: 10000, Rate: 5000})
//		...
//		fmt.Println(lt.Name, lat.P50, lat.P99, lat.P999, lat.Max)
//	}
//
// With go test:
//
//	go test -run '^$' -bench . -count 10 ./benchmarks/internal/bench | tee new.txt
//	benchstat -col /side new.txt
//
// # Concurrency
//
// A run owns every goroutine and graph it starts and joins them all before it returns.
// Runs may be made from any goroutine, but runs made at once measure each other.
package bench
