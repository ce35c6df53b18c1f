#!/usr/bin/env bash
# Captures the demo's node dumps from a real kube-proxy v1.37.2: starts the
# local cluster (package harness) with node-1 at 172.18.0.2, creates the
# objects of demo/hostnames.yaml, and writes what kube-proxy programmed:
#
#   demo/node-1.iptables-save   iptables-save, kube-proxy in iptables mode
#   demo/node-1.nft.json        nft -j list ruleset, kube-proxy in nftables mode
#
# Each dump is traced with the demo's objects before it is written. Needs root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/demo}

if [[ $(id -u) -ne 0 ]]; then
	echo "capture-demo-dumps: needs root (network namespaces, iptables); try: sudo $0 $*" >&2
	exit 1
fi
"$ROOT/hack/build-cluster-bins.sh"
cd "$ROOT"
SVCTRACE_E2E=1 SVCTRACE_CAPTURE_DEMO="$OUT" \
	go test ./conformance/ -run '^TestCaptureDemoDumps$' -count=1 -v -timeout 10m
ls -l "$OUT"/node-1.iptables-save "$OUT"/node-1.nft.json
