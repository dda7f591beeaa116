#!/usr/bin/env bash
# Builds what run.sh needs to measure a many-core Linux host that has no Go toolchain:
# static binaries of loopybench, ringpairs and the ring and flow test binaries (go test -c),
# in one folder with run.sh and a note of what was built. Copy the folder to the host, run
# ./run.sh OUT there, and copy OUT back.
#
#	benchmarks/manycore/build.sh               # into bin/manycore, which git ignores
#	benchmarks/manycore/build.sh /tmp/bundle   # or any folder
#	GOARCH=arm64 benchmarks/manycore/build.sh  # linux/amd64 unless GOARCH says otherwise
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/bin/manycore}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$root"

# CGO_ENABLED=0 makes the binaries static: the host needs no libc of a matching version.
export GOTOOLCHAIN=go1.27.3 CGO_ENABLED=0 GOOS=linux GOARCH=${GOARCH:-amd64}
echo "building for $GOOS/$GOARCH into $out"
go build -trimpath -o "$out/loopybench" ./benchmarks/cmd/loopybench
go build -trimpath -o "$out/ringpairs" ./benchmarks/cmd/ringpairs
go test -c -trimpath -o "$out/ring.test" ./ring/
go test -c -trimpath -o "$out/flow.test" ./flow/
install -m 0755 "$here/run.sh" "$out/run.sh"

# What the numbers will be numbers of: a run's report carries this note.
{
	echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
	echo "uncommitted changes to tracked files: $(git status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
	echo "toolchain: $(go version)"
	echo "target: $GOOS/$GOARCH, CGO_ENABLED=0"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$out/BUILDINFO"
cat "$out/BUILDINFO"
ls -l "$out"
