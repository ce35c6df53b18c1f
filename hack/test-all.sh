#!/usr/bin/env bash
# Runs every test tier for `make test`. The control-plane binaries the e2e
# tier needs (hack/build-cluster-bins.sh, cached by version) take most of a
# cold run to build, so they build in the background, at the lowest CPU
# priority, while the tiers that do not need them run; on a warm cache that
# build only checks the cache. Its output is printed when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
make=${MAKE:-make}
log=$(mktemp)
# setsid: the build (make, the script, go) gets a process group of its
# own, which is stopped whole when a tier fails.
setsid nice -n 19 "$make" --no-print-directory cluster-bins >"$log" 2>&1 &
bins=$!
trap 'kill -- -"$bins" 2>/dev/null || kill "$bins" 2>/dev/null || true; rm -f "$log"' EXIT
"$make" --no-print-directory lint test-unit test-fuzz test-tui test-release test-ipvs
status=0
wait "$bins" || status=$?
echo "== cluster-bins (built in the background) =="
cat "$log"
if ((status != 0)); then
	echo "make test: building the cluster binaries failed (exit $status)" >&2
	exit "$status"
fi
"$make" --no-print-directory test-e2e
