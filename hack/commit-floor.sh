#!/usr/bin/env bash
# Measures what the kernel alone charges for a small write into a big
# kube-proxy-shaped nat table (docs/performance.md, "the kernel's floor"):
# a synthetic table of SERVICES x ENDPOINTS (default 2000 x 10) in a
# network namespace of its own, then the 30-line partial update one moved
# endpoint needs, restored RUNS times with iptables-nft-restore --noflush;
# prints real/user/sys per run and, with perf installed, where the kernel
# spends the time. Nothing is asserted. Needs root.
#   hack/commit-floor.sh [SERVICES] [ENDPOINTS] [RUNS]
set -euo pipefail
services=${1:-2000} endpoints=${2:-10} runs=${3:-5}
ns=svctrace-floor-$$ dir=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$dir"' EXIT
ip netns add "$ns"

# KUBE-SERVICES -> KUBE-SVC-i -> KUBE-SEP-i-e -> DNAT, as kube-proxy lays
# it out, jumped to from PREROUTING and OUTPUT.
awk -v S="$services" -v E="$endpoints" 'BEGIN {
	print "*nat"; print ":PREROUTING ACCEPT [0:0]"; print ":OUTPUT ACCEPT [0:0]"; print ":KUBE-SERVICES - [0:0]"; print ":KUBE-MARK-MASQ - [0:0]"
	for (i = 0; i < S; i++) { printf ":KUBE-SVC-%016d - [0:0]\n", i
		for (e = 0; e < E; e++) printf ":KUBE-SEP-%08d%08d - [0:0]\n", i, e }
	print "-A PREROUTING -j KUBE-SERVICES"; print "-A OUTPUT -j KUBE-SERVICES"
	print "-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"
	for (i = 0; i < S; i++) {
		ip = sprintf("10.96.%d.%d", int(i / 250), i % 250 + 1)
		printf "-A KUBE-SERVICES -d %s/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-%016d\n", ip, i
		printf "-A KUBE-SVC-%016d ! -s 10.244.0.0/16 -d %s/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ\n", i, ip
		for (e = 0; e < E; e++) {
			left = E - e
			if (left > 1) printf "-A KUBE-SVC-%016d -m statistic --mode random --probability %.11f -j KUBE-SEP-%08d%08d\n", i, 1 / left, i, e
			else printf "-A KUBE-SVC-%016d -j KUBE-SEP-%08d%08d\n", i, i, e
			pip = sprintf("10.244.%d.%d", i % 200, e + 1)
			printf "-A KUBE-SEP-%08d%08d -s %s/32 -j KUBE-MARK-MASQ\n", i, e, pip
			printf "-A KUBE-SEP-%08d%08d -p tcp -m tcp -j DNAT --to-destination %s:80\n", i, e, pip }
	}
	print "COMMIT" }' >"$dir/table"
# One endpoint of Service 0 replaced: its chain rewritten, a new endpoint
# chain, the old one flushed and deleted (what --serve's partial sync writes).
awk -v E="$endpoints" -v run="$runs" 'BEGIN {
	for (r = 0; r < run; r++) {
		f = sprintf("%s.%d", ARGV[1], r)
		new = sprintf("KUBE-SEP-NEW%013d", r); old = (r == 0) ? sprintf("KUBE-SEP-%08d%08d", 0, E - 1) : sprintf("KUBE-SEP-NEW%013d", r - 1)
		print "*nat" > f; printf ":KUBE-SVC-%016d - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n", 0, new, old > f
		printf "-A KUBE-SVC-%016d ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ\n", 0 > f
		for (e = 0; e < E - 1; e++) printf "-A KUBE-SVC-%016d -m statistic --mode random --probability %.11f -j KUBE-SEP-%08d%08d\n", 0, 1 / (E - e), 0, e > f
		printf "-A KUBE-SVC-%016d -j %s\n-A %s -s 10.244.0.99/32 -j KUBE-MARK-MASQ\n", 0, new, new > f
		printf "-A %s -p tcp -m tcp -j DNAT --to-destination 10.244.0.99:80\n-X %s\nCOMMIT\n", new, old > f
		close(f) } }' "$dir/partial"

echo "table: $(wc -l <"$dir/table") lines ($services Services x $endpoints endpoints)"
# -S first: iptables-nft 1.8's restore is quadratic in the chains a block
# names otherwise (docs/performance.md).
{ echo "*nat"; echo "-S"; tail -n +2 "$dir/table"; } | ip netns exec "$ns" iptables-nft-restore --noflush >/dev/null
for ((r = 0; r < runs; r++)); do
	TIMEFORMAT="partial restore ($(wc -l <"$dir/partial.$r") lines): %R s real, %U s user, %S s system"
	time ip netns exec "$ns" iptables-nft-restore --noflush <"$dir/partial.$r"
done
if command -v perf >/dev/null; then
	{ echo "*nat"; echo ":KUBE-SEP-PERF - [0:0]"; echo "-A KUBE-SEP-PERF -j KUBE-MARK-MASQ"; echo "COMMIT"; } >"$dir/perf.in"
	perf record -q -g -o "$dir/perf.data" -- ip netns exec "$ns" iptables-nft-restore --noflush <"$dir/perf.in" 2>/dev/null
	echo "where one more such restore spends its time (perf, top kernel and user symbols):"
	perf report -i "$dir/perf.data" --no-children --stdio --sort sym 2>/dev/null | grep -E '^ +[0-9]+\.[0-9]+%' | head -6
fi
