// Command ringpairs measures the ring's benchmarks against their channel baselines on a
// machine whose core-to-core latency does not hold still, such as a small shared VM.
//
// `go test -bench . -count 10 ./ring/` and benchstat are the tool on a quiet machine. On a
// VM whose vCPUs the host moves about, the time a cache line takes between two cores can
// change several times a minute (70 ns to 560 ns on the 2-vCPU development VM), and a plain
// run then mixes ring figures from one state with channel figures from another. ringpairs
// runs each ring benchmark right next to its channel baseline, measures the line's round
// trip before and after each pair (bench.LineRoundTrip), and reports the median ratio
// over the pairs whose round trips stayed within -near times the fastest seen, and over the
// others. The default of 3 separates the development VM's two states (round trips of about
// 70–200 ns and 400–560 ns).
//
//	GOTOOLCHAIN=go1.27.3 go run ./benchmarks/cmd/ringpairs              # 12 rounds, ~2 min
//	GOTOOLCHAIN=go1.27.3 go run ./benchmarks/cmd/ringpairs -rounds 24 -v
//	ringpairs -bin ./ring.test -rounds 8                     # a binary built beforehand, no toolchain
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/loopyring/loopyring/benchmarks/internal/bench"
)

// pair is one ring benchmark of ring/bench_test.go and the channel baseline it is compared with.
type pair struct{ ring, chans string }

var pairs = []pair{
	{"SPSC/batch=1", "SPSC/chan"},
	{"SPSC/batch=16", "SPSC/chan"},
	{"SPSC/batch=256", "SPSC/chan"},
	{"MPSC/batch=1", "MPSC/chan"},
	{"MPSC/batch=16", "MPSC/chan"},
	{"Multicast/ring", "Multicast/chan"},
}

// sample is one pair's outcome: the round trips around it and both sides' ns/op.
type sample struct {
	bench          string
	before, after  time.Duration
	ringNs, chanNs float64
}

func (s sample) ratio() float64 { return s.chanNs / s.ringNs }

// slowest is the larger of the two round trips: a pair counts as fast only if the machine
// was fast on both sides of it.
func (s sample) slowest() time.Duration { return max(s.before, s.after) }

func main() {
	var c config
	flag.IntVar(&c.rounds, "rounds", 12, "rounds; each runs every pair once")
	flag.DurationVar(&c.benchtime, "benchtime", 300*time.Millisecond, "-benchtime of each benchmark run")
	flag.Float64Var(&c.near, "near", 3, "a pair is in the fast group if its round trips are within this factor of the fastest seen")
	flag.BoolVar(&c.verbose, "v", false, "print every pair as it is measured")
	flag.StringVar(&c.bin, "bin", "", "the ring's test binary (go test -c ./ring/) to run; empty: build it with the go command")
	flag.Parse()
	// SIGTERM is what timeout(1) sends: a run cut short by one still reports the pairs it
	// measured (benchmarks/manycore/run.sh runs it under a timeout).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c.stop = ctx.Done()
	if err := run(c, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ringpairs:", err)
		os.Exit(1)
	}
}

// config is the command's settings, from its flags.
type config struct {
	bin       string // the ring's test binary; empty: build one
	rounds    int
	benchtime time.Duration
	near      float64
	verbose   bool
	stop      <-chan struct{} // closed to end the run and report the pairs measured so far
}

// roundTrip measures the machine's state around each pair; a variable so that a test of
// the rest need not wait for it.
var roundTrip = func() time.Duration { return bench.LineRoundTrip(20_000, time.Second) }

// run measures the pairs with the test binary c.bin, which it builds first if c.bin is
// empty. A prebuilt binary lets ringpairs run where there is no Go toolchain
// (benchmarks/manycore).
func run(c config, out, progress io.Writer) error {
	if c.rounds < 1 || c.benchtime <= 0 || c.near < 1 {
		return errors.New("want -rounds >= 1, -benchtime > 0 and -near >= 1")
	}
	bin := c.bin
	if bin == "" {
		dir, err := os.MkdirTemp("", "ringpairs")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "ring.test")
		fmt.Fprintln(progress, "building the ring's test binary")
		build := exec.Command("go", "test", "-c", "-o", bin, "github.com/loopyring/loopyring/ring")
		build.Stdout, build.Stderr = progress, progress
		if err := build.Run(); err != nil {
			return fmt.Errorf("go test -c: %w", err)
		}
	} else if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("-bin: %w", err)
	}
	// stopped says whether c.stop is closed, or closes within grace.
	stopped := func(grace time.Duration) bool {
		select {
		case <-c.stop:
			return true
		default:
		}
		if grace <= 0 {
			return false
		}
		select {
		case <-c.stop:
			return true
		case <-time.After(grace):
			return false
		}
	}
	var samples []sample
	measure := func(p pair) error {
		s := sample{bench: p.ring, before: roundTrip()}
		var err error
		if s.ringNs, err = nsPerOp(bin, p.ring, c.benchtime); err != nil {
			return err
		}
		if s.chanNs, err = nsPerOp(bin, p.chans, c.benchtime); err != nil {
			return err
		}
		s.after = roundTrip()
		if c.verbose {
			fmt.Fprintf(progress, "%-16s round trip %v / %v: ring %.2f ns, channels %.2f ns, %.2f×\n",
				s.bench, s.before, s.after, s.ringNs, s.chanNs, s.ratio())
		}
		samples = append(samples, s)
		return nil
	}
	interrupted := false
rounds:
	for r := range c.rounds {
		fmt.Fprintf(progress, "round %d of %d\n", r+1, c.rounds)
		for _, p := range pairs {
			if stopped(0) {
				interrupted = true
				break rounds
			}
			if err := measure(p); err != nil {
				// timeout(1) signals the whole process group, so the benchmark may die of
				// the signal a moment before this process hears of it.
				if stopped(100 * time.Millisecond) {
					interrupted = true
					break rounds
				}
				return err
			}
		}
	}
	report(out, samples, c.near)
	if interrupted {
		fmt.Fprintf(out, "\n- **interrupted** by a signal after %d of %d pairs\n", len(samples), c.rounds*len(pairs))
	}
	return nil
}

// nsPerOp runs one benchmark of the test binary and returns its ns/op.
func nsPerOp(bin, bench string, benchtime time.Duration) (float64, error) {
	cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", "^Benchmark"+anchored(bench)+"$",
		"-test.benchtime", benchtime.String())
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %w\n%s", bench, err, stdout.String())
	}
	return parseNsPerOp(stdout.String(), bench)
}

// anchored turns "SPSC/batch=1" into a -test.bench pattern that matches exactly that
// sub-benchmark: each slash-separated part is anchored on its own.
func anchored(bench string) string {
	parts := strings.Split(bench, "/")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, "$/^")
}

// parseNsPerOp finds the result line of bench in go test output ("BenchmarkSPSC/batch=1-2
// 1000 25.3 ns/op ...") and returns its ns/op.
func parseNsPerOp(output, bench string) (float64, error) {
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || f[3] != "ns/op" {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i] // the -GOMAXPROCS suffix
		}
		if name != bench {
			continue
		}
		ns, err := strconv.ParseFloat(f[2], 64)
		if err != nil || ns <= 0 {
			return 0, fmt.Errorf("%s: bad ns/op %q", bench, f[2])
		}
		return ns, nil
	}
	return 0, fmt.Errorf("%s: no result in the output:\n%s", bench, output)
}

// report prints, per benchmark, the median ratio over the pairs measured while the machine
// was in its fast state (round trips within near of the fastest seen) and over the rest,
// which include pairs whose round trip could not be measured.
func report(w io.Writer, samples []sample, near float64) {
	fastest := time.Duration(0)
	for _, s := range samples {
		if s.before > 0 && (fastest == 0 || s.before < fastest) {
			fastest = s.before
		}
		if s.after > 0 && (fastest == 0 || s.after < fastest) {
			fastest = s.after
		}
	}
	limit := time.Duration(float64(fastest) * near)
	fmt.Fprintf(w, "## ringpairs\n\n- fastest cache line round trip seen: %v; fast pairs: both round trips ≤ %v\n", fastest, limit)
	fmt.Fprintf(w, "- ratio: channel ns/op over ring ns/op of the same pair, median (n)\n\n")
	fmt.Fprintln(w, "| benchmark | fast pairs | other pairs |")
	fmt.Fprintln(w, "| --- | ---: | ---: |")
	for _, p := range pairs {
		var fast, other []float64
		for _, s := range samples {
			if s.bench != p.ring {
				continue
			}
			if s.before > 0 && s.after > 0 && s.slowest() <= limit {
				fast = append(fast, s.ratio())
			} else {
				other = append(other, s.ratio())
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", p.ring, cell(fast), cell(other))
	}
}

func cell(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f× (%d)", bench.Median(v), len(v))
}
