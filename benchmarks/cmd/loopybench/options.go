package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/loopyring/loopyring/affinity"
	"github.com/loopyring/loopyring/benchmarks/internal/bench"
	"github.com/loopyring/loopyring/flow"
)

// options are the runner's settings, from its flags.
type options struct {
	duration   time.Duration   // timed length of each run of each side
	runs       int             // runs per side; the table shows the median
	filter     *regexp.Regexp  // which topologies and latency tests run
	capacities []int           // ring capacities (and channel buffers) to sweep
	shapes     [][]int         // seed topology shapes (stages per level after the source) to sweep
	placement  affinity.Policy // CPU placement of the loopyring side
	mode       flow.Mode       // how flow runs its stages
	spin       time.Duration   // flow stages' spin; 0 keeps flow's default
	spinCores  int             // flow.SetSpinCores; -1 keeps the default budget
	rate       int             // latency: offered entries per second
	format     string          // markdown, csv or json
	plotDir    string          // where to draw the plots; "" draws none
	from       string          // a JSON report to print and plot instead of running
}

var formats = []string{"markdown", "csv", "json"}

// fromFlags are the flags that mean something with -from.
var fromFlags = []string{"from", "format", "plot"}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loopybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `loopybench runs the loopyring benchmark suite against Go channels, side by side, and
prints one table (the median of -runs runs of each side, alternated).

usage: go run ./benchmarks/cmd/loopybench [flags]

`)
		fs.PrintDefaults()
	}
	o := options{}
	fs.DurationVar(&o.duration, "duration", time.Second, "timed length of each run of each side")
	fs.IntVar(&o.runs, "runs", 3, "runs of each side; the table shows the median")
	filter := fs.String("topology", "", "regexp: run only the topologies and latency tests whose names match (unicast, pipeline,\nmulticast, diamond, sequencer, seed, pingpong, pipeline-latency)")
	caps := fs.String("capacity", strconv.Itoa(bench.DefaultCapacity), "ring capacity and channel buffer; a comma-separated list sweeps them (1024,8192,16384)")
	stages := fs.String("stages", "2/4/2", "seed topology shapes to sweep, comma-separated: W means W/2, W and W/2 stages after the\nsource (4 is the seed's 1→2→4→2); a slash-separated list gives each level's stages (2/4/2)")
	placement := fs.String("placement", "none", "CPU placement of the loopyring side's threads: none, compact or spread")
	mode := fs.String("mode", "auto", "how flow runs the loopyring side's stages: auto (dedicated when every stage has a CPU,\nshared otherwise), dedicated (locked threads in event loops) or shared (goroutines)")
	fs.DurationVar(&o.spin, "spin", 0, "how long an idle flow stage spins before it sleeps, when the spin budget allows (0: flow's default)")
	fs.IntVar(&o.spinCores, "spincores", -1, "stages that may spin at once (flow.SetSpinCores); -1: the spare cores (allowed CPUs less running stages)")
	fs.IntVar(&o.rate, "rate", bench.DefaultRate, "pipeline-latency: entries per second offered")
	fs.StringVar(&o.format, "format", "markdown", "output: markdown, csv or json")
	fs.StringVar(&o.plotDir, "plot", "", "draw the report as PNG charts into this directory (created if need be)")
	fs.StringVar(&o.from, "from", "", "print (in -format) and plot (with -plot) the JSON report in this file instead of running;\nonly -format and -plot go with it")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var errs []error
	if o.from != "" {
		// A report read back was shaped by the flags it was run with; a flag that shapes a
		// run would be silently ignored here, so it is refused.
		fs.Visit(func(f *flag.Flag) {
			if !contains(fromFlags, f.Name) {
				errs = append(errs, fmt.Errorf("-%s: not with -from, which runs nothing", f.Name))
			}
		})
	}
	if o.duration <= 0 {
		errs = append(errs, fmt.Errorf("-duration %v: want a positive duration", o.duration))
	}
	if o.runs < 1 {
		errs = append(errs, fmt.Errorf("-runs %d: want at least 1", o.runs))
	}
	if o.rate < 1 {
		errs = append(errs, fmt.Errorf("-rate %d: want at least 1", o.rate))
	}
	var err error
	if o.filter, err = regexp.Compile(*filter); err != nil {
		errs = append(errs, fmt.Errorf("-topology: %w", err))
	}
	if o.capacities, err = parseCapacities(*caps); err != nil {
		errs = append(errs, fmt.Errorf("-capacity: %w", err))
	}
	if o.shapes, err = parseShapes(*stages); err != nil {
		errs = append(errs, fmt.Errorf("-stages: %w", err))
	}
	if o.placement, err = affinity.ParsePolicy(*placement); err != nil {
		errs = append(errs, fmt.Errorf("-placement: %w", err))
	} else if o.placement == affinity.Explicit {
		errs = append(errs, errors.New("-placement explicit: not offered here; use none, compact or spread"))
	}
	switch *mode {
	case "auto":
		o.mode = flow.Auto
	case "dedicated":
		o.mode = flow.Dedicated
	case "shared":
		o.mode = flow.Shared
	default:
		errs = append(errs, fmt.Errorf("-mode %q: want auto, dedicated or shared", *mode))
	}
	if o.spin < 0 {
		errs = append(errs, fmt.Errorf("-spin %v: want a duration of 0 or more", o.spin))
	}
	if !contains(formats, o.format) {
		errs = append(errs, fmt.Errorf("-format %q: want one of %s", o.format, strings.Join(formats, ", ")))
	}
	return o, errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func parseCapacities(s string) ([]int, error) {
	var caps []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 || n&(n-1) != 0 {
			return nil, fmt.Errorf("%q: want powers of two, at least 2", f)
		}
		caps = append(caps, n)
	}
	return caps, nil
}

// parseShapes reads the -stages sweep. A bare number W is the seed's shape scaled so that
// its widest level has W stages; a slash-separated list is taken as it is.
func parseShapes(s string) ([][]int, error) {
	var shapes [][]int
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		var shape []int
		for p := range strings.SplitSeq(f, "/") {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%q: want a width like 16 or stages per level like 2/4/2, each at least 1", f)
			}
			shape = append(shape, n)
		}
		if len(shape) == 1 {
			w := shape[0]
			shape = []int{max(1, w/2), w, max(1, w/2)}
		}
		shapes = append(shapes, shape)
	}
	return shapes, nil
}

// shapeString renders a seed shape with its source: 1→2→4→2.
func shapeString(shape []int) string {
	parts := []string{"1"}
	for _, w := range shape {
		parts = append(parts, strconv.Itoa(w))
	}
	return strings.Join(parts, "→")
}
