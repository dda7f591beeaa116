#!/usr/bin/env bash
# bench.sh compares examples/resp (the loopyring graph), the same command code run as a
# goroutine-per-connection server, and redis-server, with redis-benchmark, one server at a
# time, at pipeline depths 1, 16 and 64, with keys drawn from 100,000 (-r) so that they
# spread over the shards as a real key space does. It prints requests per second side by
# side and the ratios, then the median latency of one client without pipelining (-c 1).
# Environment: N (requests per test, default 200000), C (clients, default 50), TESTS
# (default ping,set,get,incr,mset), PIPELINES (default "1 16 64"), LAT_N (requests of the
# -c 1 runs, default 20000; 0 skips them), RESP_FLAGS (extra flags for the graph server).
set -euo pipefail

N=${N:-200000}
C=${C:-50}
TESTS=${TESTS:-ping,set,get,incr,mset}
PIPELINES=${PIPELINES:-1 16 64}
LAT_N=${LAT_N:-20000}
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
cd "$(dirname "$0")/../.."

if ! command -v redis-benchmark >/dev/null || ! command -v redis-server >/dev/null; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update
	$sudo apt-get install -y redis-tools redis-server
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# Without cgo, so that the server can set its threads' timer slack without privilege
# (affinity.SetTimerSlack); it uses nothing cgo would give it.
CGO_ENABLED=0 go build -o "$tmp/resp" ./examples/resp

GRAPH_PORT=${GRAPH_PORT:-16380}
GOR_PORT=${GOR_PORT:-16381}
REDIS_PORT=${REDIS_PORT:-16382}

"$tmp/resp" -addr "127.0.0.1:$GRAPH_PORT" ${RESP_FLAGS:-} 2>"$tmp/graph.log" &
pids+=($!)
"$tmp/resp" -mode=goroutines -addr "127.0.0.1:$GOR_PORT" 2>"$tmp/goroutines.log" &
pids+=($!)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$tmp/redis.log" 2>&1 &
pids+=($!)

for port in "$GRAPH_PORT" "$GOR_PORT" "$REDIS_PORT"; do
	for _ in $(seq 100); do
		redis-cli -p "$port" ping >/dev/null 2>&1 && break
		sleep 0.1
	done
	redis-cli -p "$port" ping >/dev/null || { echo "server on port $port did not start" >&2; cat "$tmp"/*.log >&2; exit 1; }
done

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis-benchmark -t $TESTS -n $N -c $C, one server at a time"

declare -A rps
run() { # name port pipeline
	redis-benchmark -p "$2" -t "$TESTS" -n "$N" -c "$C" -P "$3" -r 100000 --csv 2>/dev/null |
		tail -n +2 | tr -d '"' | cut -d, -f1,2 >"$tmp/out.csv"
	while IFS=, read -r test value; do
		rps["$1,$3,$test"]=$value
	done <"$tmp/out.csv"
}
for p in $PIPELINES; do
	run graph "$GRAPH_PORT" "$p"
	run goroutines "$GOR_PORT" "$p"
	run redis "$REDIS_PORT" "$p"
done

printf '\n%-16s %3s %12s %12s %12s %9s %9s\n' test P loopyring goroutines redis-server vs-redis vs-gorout
for p in $PIPELINES; do
	while IFS=, read -r test _; do
		g=${rps["graph,$p,$test"]:-0} r=${rps["goroutines,$p,$test"]:-0} s=${rps["redis,$p,$test"]:-0}
		printf '%-16s %3s %12.0f %12.0f %12.0f %9s %9s\n' "$test" "$p" "$g" "$r" "$s" \
			"$(awk -v a="$g" -v b="$s" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')" \
			"$(awk -v a="$g" -v b="$r" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	done <"$tmp/out.csv"
done
if [ "$LAT_N" -gt 0 ]; then
	declare -A p50
	for server in graph:$GRAPH_PORT goroutines:$GOR_PORT redis:$REDIS_PORT; do
		redis-benchmark -p "${server#*:}" -t get,set -n "$LAT_N" -c 1 -P 1 -r 100000 --csv 2>/dev/null |
			tail -n +2 | tr -d '"' | cut -d, -f1,5 >"$tmp/lat.csv"
		while IFS=, read -r test value; do
			p50["${server%%:*},$test"]=$value
		done <"$tmp/lat.csv"
	done
	printf '\n-c 1 -P 1, p50 latency in ms (%s requests)\n' "$LAT_N"
	printf '%-16s %12s %12s %12s %9s\n' test loopyring goroutines redis-server vs-redis
	while IFS=, read -r test _; do
		g=${p50["graph,$test"]:-0} r=${p50["goroutines,$test"]:-0} s=${p50["redis,$test"]:-0}
		printf '%-16s %12s %12s %12s %9s\n' "$test" "$g" "$r" "$s" \
			"$(awk -v a="$g" -v b="$s" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
	done <"$tmp/lat.csv"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
