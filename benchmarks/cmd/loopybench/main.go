// Command loopybench runs the loopyring benchmark suite against Go channels, side by side,
// and prints one table: per topology, both sides' entries per second, their ratio,
// allocations and CPU time per entry (medians of several alternated runs), then the
// latency percentiles, and, for a sweep of seed shapes, how throughput scales. It records
// the machine it ran on. Progress goes to stderr, the report to stdout.
//
//	go run ./benchmarks/cmd/loopybench                          # every topology, about a minute on 2 cores
//	go run ./benchmarks/cmd/loopybench -capacity 1024,8192,16384 -topology 'seed|pipeline'
//	go run ./benchmarks/cmd/loopybench -stages 8,16,32,64 -topology seed -placement spread
//	go run ./benchmarks/cmd/loopybench -format csv > results.csv
//
// The code it measures is the benchmarks package's, the same that its testing.B benchmarks
// run.
package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/loopyring/loopyring/flow"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "loopybench:", err)
		}
		os.Exit(2)
	}
}

// run is the whole command, with its arguments and outputs passed in so tests can run it.
func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	if o.spinCores >= 0 {
		flow.SetSpinCores(o.spinCores)
		defer flow.SetSpinCores(-1)
	}
	r := &runner{o: o, progress: stderr}
	rep, err := r.run()
	if err != nil {
		return err
	}
	return write(stdout, o.format, rep)
}
