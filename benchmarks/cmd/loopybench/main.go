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
//	go run ./benchmarks/cmd/loopybench -format json -plot plots > results.json
//	go run ./benchmarks/cmd/loopybench -from results.json -plot plots -format csv
//
// The code it measures is the benchmarks package's, the same that its testing.B benchmarks
// run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/loopyring/loopyring/flow"
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
	var rep Report
	if o.from != "" {
		rep, err = readReport(o.from)
	} else {
		rep, err = measureAll(o, stderr)
	}
	if err != nil {
		return err
	}
	// The report first: a plot that fails must not lose a long run's figures.
	if err := write(stdout, o.format, rep); err != nil {
		return err
	}
	if o.plotDir == "" {
		return nil
	}
	files, err := plotReport(o.plotDir, rep)
	for _, f := range files {
		fmt.Fprintln(stderr, "plot:", f)
	}
	return err
}

func measureAll(o options, progress io.Writer) (Report, error) {
	if o.spinCores >= 0 {
		flow.SetSpinCores(o.spinCores)
		defer flow.SetSpinCores(-1)
	}
	// SIGTERM is what timeout(1) sends: a run cut short by one still reports the rows it
	// measured (benchmarks/manycore/run.sh runs each sweep under a timeout).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &runner{o: o, progress: progress, stop: ctx.Done()}
	return r.run()
}

// readReport reads a report that -format json wrote.
func readReport(path string) (Report, error) {
	var rep Report
	b, err := os.ReadFile(path)
	if err != nil {
		return rep, err
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		return rep, fmt.Errorf("%s: %w", path, err)
	}
	if len(rep.Rows) == 0 {
		return rep, fmt.Errorf("%s: a report with no rows", path)
	}
	return rep, nil
}
