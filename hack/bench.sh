#!/usr/bin/env bash
# Runs the benchmarks that carry speed and memory targets and checks each
# against its target (docs/performance.md). Timing belongs here, never in
# tests. Exit status 1 when a target is missed.
#   hack/bench.sh [count]   (default 3 runs each; the best run counts)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# package|benchmark regexp|metric|limit|unit label
targets=(
	"./dataplane/iptables|^BenchmarkParse$|ns/op|1000000000|parse+index 10k services x 10 endpoints < 1 s"
	"./dataplane/iptables|^BenchmarkParse$|heap-MB|300|parsed dump heap < 300 MB"
	"./dataplane/iptables|^BenchmarkWalk$|ns/op|1000000|walk one packet < 1 ms"
	"./dataplane/iptables|^BenchmarkDrift$|ns/op|1000000|drift one service < 1 ms"
	"./tui|^BenchmarkView|ns/op|16000000|TUI frame (View) < 16 ms"
	"./tui|^BenchmarkStartupDemo$|ns/op|300000000|demo startup to first TUI frame < 300 ms"
)

fail=0
for t in "${targets[@]}"; do
	IFS='|' read -r pkg bench metric limit label <<<"$t"
	go test -run '^$' -bench "$bench" -benchmem -count "$count" -benchtime 5x "$pkg" >"$out"
	# Each (sub-)benchmark's best run, then the slowest of those: a pattern
	# matching several screens must hold for every one of them.
	best=$(awk -v m="$metric" '/^Benchmark/ {
		for (i = 2; i < NF; i++) if ($(i+1) == m && (!($1 in min) || $i < min[$1])) min[$1] = $i
	} END { for (b in min) print min[b] }' "$out" | sort -g | tail -1)
	if [ -z "$best" ]; then
		echo "FAIL  $label: no $metric reported by $bench in $pkg"
		fail=1
	elif awk -v b="$best" -v l="$limit" 'BEGIN { exit !(b < l) }'; then
		echo "ok    $label: $best $metric"
	else
		echo "FAIL  $label: $best $metric (limit $limit)"
		fail=1
	fi
done
exit $fail
