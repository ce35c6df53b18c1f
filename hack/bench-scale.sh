#!/usr/bin/env bash
# The whole command's cost of tracing one Service offline against dump size
# (docs/performance.md): for each size, a dump of N Services x 10 pods with
# their EndpointSlices, nodes and events (hack/gendump) as YAML and JSON,
# plain and gzip-compressed, traced with -f; wall and CPU seconds and peak
# RSS of the process (hack/measure, the fastest of $RUNS runs). Prints a
# Markdown table; exit status 1 when a 10,000-Service trace misses 5 s or
# 1 GB. Timing belongs here, never in tests.
#   hack/bench-scale.sh [SIZE...]     (default: 1000 2000 5000 10000)
# Dumps are kept in $SCALE_DIR (default /tmp/svctrace-scale) for the next run.
# On a machine shared with other jobs, SCALE_RT=1 (root) runs each trace at
# real-time priority (chrt -f 10): the process gets the cores it asks for,
# as on an idle machine, for the second or two it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SCALE_DIR:-${TMPDIR:-/tmp}/svctrace-scale}
runs=${RUNS:-3}
mkdir -p "$dir"
go build -o "$dir/kubectl-svctrace" ./cmd/kubectl-svctrace
go build -o "$dir/gendump" ./hack/gendump
go build -o "$dir/measure" ./hack/measure
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 2000 5000 10000)

rt=()
[ "${SCALE_RT:-}" != 1 ] || rt=(chrt -f 10)
fail=0
echo "| Services | input | file MB | wall s | CPU s | peak RSS MB |"
echo "|---:|---|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
	# The Service in the middle; gendump spreads Services over N/100
	# namespaces (at least one), Service i in namespace i mod that.
	i=$((n / 2))
	nss=$((n / 100 > 0 ? n / 100 : 1))
	svc=$(printf 'app-%05d' "$i")
	ns=$(printf 'team-%03d' $((i % nss)))
	for fmt in yaml json; do
		base="$dir/dump-$n.$fmt"
		[ -s "$base" ] || "$dir/gendump" -services "$n" -o "$base"
		[ -s "$base.gz" ] || gzip -1 -c "$base" >"$base.gz"
		for f in "$base" "$base.gz"; do
			m=$(${rt[@]+"${rt[@]}"} "$dir/measure" -runs "$runs" -- "$dir/kubectl-svctrace" "$svc" -n "$ns" -f "$f")
			wall=$(sed -n 's/.*wall_s=\([0-9.]*\).*/\1/p' <<<"$m")
			cpu=$(sed -n 's/.*cpu_s=\([0-9.]*\).*/\1/p' <<<"$m")
			rss=$(sed -n 's/.*rss_mb=\([0-9.]*\).*/\1/p' <<<"$m")
			mb=$(awk -v b="$(stat -L -c %s "$f")" 'BEGIN { printf "%.1f", b / 1e6 }')
			echo "| $n | $(basename "$f" | sed "s/^dump-$n.//") | $mb | $wall | $cpu | $rss |"
			if [ "$n" -ge 10000 ] && ! awk -v w="$wall" -v r="$rss" 'BEGIN { exit !(w < 5 && r < 1024) }'; then
				echo "FAIL  $f: ${wall} s, ${rss} MB (limits 5 s, 1024 MB)" >&2
				fail=1
			fi
		done
	done
done
exit $fail
