#!/usr/bin/env bash
# Runs every Fuzz target in the module for a bounded time each ($1, e.g. 15s).
set -euo pipefail
fuzztime=${1:-15s}
# Minimising a new interesting input re-runs it up to 60 s by default, which
# a bounded run spends stalled at "0/sec"; a short cap keeps it fuzzing.
minimizetime=${FUZZ_MINIMIZE_TIME:-2s}
# Go 1.26's fuzzing coordinator can fail a target with a bare "context
# deadline exceeded" when -fuzztime ends while a worker is busy (a loaded
# machine makes it likely): go.dev/issue/75804, fixed in Go 1.27. The fuzz
# tier alone runs on that toolchain, which the go command fetches from the
# module proxy (76 MB, once per machine); the module itself needs no 1.27.
export GOTOOLCHAIN=${FUZZ_GOTOOLCHAIN:-go1.27.3}
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
	dir=$(dirname "$file")
	for target in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
		echo "fuzz $dir $target for $fuzztime"
		go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimizetime" "$dir"
	done
done
