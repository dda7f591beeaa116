#!/usr/bin/env bash
# Measures loopyring on this Linux host with the binaries beside this script (built by
# benchmarks/manycore/build.sh on any machine with Go; no toolchain is needed here), and
# writes every result into OUT:
#
#	./run.sh OUT            # about 5 minutes on 16 cores, never more than BUDGET seconds
#	QUICK=1 ./run.sh OUT    # every step tiny: checks that the bundle runs here (~1 minute)
#	BUDGET=900 ./run.sh OUT # a longer ceiling; the steps' own lengths do not change
#
# Steps, each under a timeout so that a stuck one cannot eat the others' time (loopybench
# and ringpairs stop at its signal and still write what they measured):
#   width      loopybench, the seed topology at widths 1, 2, 4 ... up to the CPUs, threads
#              spread over the cores (-placement spread)   -> width.{json,csv,md}
#   capacity   loopybench, every topology and latency test at capacities 1024, 8192, 16384
#                                                          -> capacity.{json,csv,md}
#   ringpairs  the ring's benchmarks paired with their channel baselines -> ringpairs.md
#   ring-bench, flow-bench  the test binaries' benchmarks, go test's text format (benchstat
#              reads it)                                   -> ring-bench.txt, flow-bench.txt
#   plots      loopybench -from each JSON report           -> plots/width, plots/capacity
# and machine.txt (CPUs, topology, load), BUILDINFO, steps.txt (time per step), logs/.
set -euo pipefail

bin=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ]; then
	echo "usage: $0 OUTPUT_DIR" >&2
	exit 2
fi
mkdir -p "$1/logs" "$1/plots"
out=$(cd "$1" && pwd)

cores=$(nproc)
budget=${BUDGET:-450}   # seconds; 7.5 minutes, under the 8 the run is meant to fit in
reserve=30              # seconds kept back for the plots and tables at the end
start=$(date +%s)
deadline=$((start + budget))

# Widths 1, 2, 4 ... up to the CPUs, and the CPU count itself: width W runs 2W+1 stages,
# so from W = CPUs/2 on there are more stage threads than cores.
widths=1
for ((w = 2; w <= cores; w *= 2)); do widths+=",$w"; done
[[ ",$widths," == *",$cores,"* ]] || widths+=",$cores"

if [ -n "${QUICK:-}" ]; then
	width_args=(-duration 50ms -runs 1)
	capacity_args=(-capacity '1024,8192' -duration 50ms -runs 1)
	ringpairs_args=(-rounds 1 -benchtime 10ms)
	bench_args=(-test.benchtime 10ms -test.count 1)
else
	width_args=(-duration 1s -runs 3)
	capacity_args=(-capacity '1024,8192,16384' -duration 500ms -runs 3)
	ringpairs_args=(-rounds 4 -benchtime 200ms)
	bench_args=(-test.benchtime 200ms -test.count 5)
fi

failed=()

# step NAME LIMIT STDOUT COMMAND...: runs COMMAND with its output in STDOUT and its
# progress in logs/NAME.log, for at most LIMIT seconds or what is left of the budget,
# and records how long it took.
step() {
	local name=$1 limit=$2 stdout=$3
	shift 3
	local left=$((deadline - reserve - $(date +%s)))
	((limit < left)) || limit=$left
	if ((limit < 5)); then
		echo "== $name: skipped, the budget is spent" | tee -a "$out/steps.txt"
		failed+=("$name (skipped)")
		return
	fi
	echo "== $name (at most ${limit}s)"
	local t0 rc=0
	t0=$(date +%s)
	timeout --kill-after=10 "$limit" "$@" >"$stdout" 2>"$out/logs/$name.log" || rc=$?
	local took=$(($(date +%s) - t0))
	if ((rc == 124)); then
		# loopybench and ringpairs stop at the signal and report what they measured.
		echo "   $name: timed out after ${took}s; its output has what it measured by then" | tee -a "$out/steps.txt"
		failed+=("$name (timed out)")
	elif ((rc != 0)); then
		echo "   $name: failed after ${took}s (exit $rc), see logs/$name.log" | tee -a "$out/steps.txt"
		failed+=("$name (exit $rc)")
	else
		echo "   $name: ${took}s" | tee -a "$out/steps.txt"
	fi
}

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host: $(uname -srm)"
	echo "nproc: $cores"
	echo "loadavg: $(cat /proc/loadavg 2>/dev/null || echo unknown)"
	echo "widths swept: $widths"
	echo "quick: ${QUICK:-no}"
	echo
	lscpu 2>/dev/null || grep -m1 'model name' /proc/cpuinfo || true
} >"$out/machine.txt"
cp "$bin/BUILDINFO" "$out/" 2>/dev/null || true
: >"$out/steps.txt"
echo "$cores CPUs; widths $widths; results in $out"

step width 150 "$out/width.json" \
	"$bin/loopybench" -topology '^seed$' -stages "$widths" -placement spread "${width_args[@]}" -format json
step capacity 200 "$out/capacity.json" \
	"$bin/loopybench" "${capacity_args[@]}" -format json
step ringpairs 120 "$out/ringpairs.md" \
	"$bin/ringpairs" -bin "$bin/ring.test" "${ringpairs_args[@]}"
step ring-bench 60 "$out/ring-bench.txt" \
	"$bin/ring.test" -test.run '^$' -test.bench . -test.benchmem "${bench_args[@]}"
step flow-bench 100 "$out/flow-bench.txt" \
	"$bin/flow.test" -test.run '^$' -test.bench . -test.benchmem "${bench_args[@]}"

# The tables and plots come from the JSON reports, so a sweep is measured once; a report
# that a timeout cut short is empty and is skipped.
reserve=0
for r in width capacity; do
	if [ ! -s "$out/$r.json" ]; then
		continue
	fi
	step "$r-table" 20 "$out/$r.md" "$bin/loopybench" -from "$out/$r.json"
	step "$r-plots" 40 "$out/$r.csv" "$bin/loopybench" -from "$out/$r.json" -format csv -plot "$out/plots/$r"
done

echo "total: $(($(date +%s) - start))s" | tee -a "$out/steps.txt"
if ((${#failed[@]} > 0)); then
	echo "not complete: ${failed[*]}" | tee -a "$out/steps.txt"
	exit 1
fi
