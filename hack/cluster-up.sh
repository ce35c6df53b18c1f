#!/usr/bin/env bash
# Brings the local test cluster (package harness) up in the background and
# prints where its kubeconfig and state are. Needs root.
#
#   hack/cluster-up.sh [iptables|nftables] [NODES] [dual|single]   (NODES: default 2; dual-stack by default)
#
# Environment: SVCTRACE_CLUSTER_DIR (<repo>/.cache/cluster), the state
# directory that hack/cluster-down.sh reads.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MODE=${1:-iptables}
NODES=${2:-2}
STACK=${3:-dual}
DIR=${SVCTRACE_CLUSTER_DIR:-$ROOT/.cache/cluster}
BIN=$ROOT/.cache/bin/cluster

if [[ $(id -u) -ne 0 ]]; then
	echo "cluster-up: needs root (network namespaces, iptables); try: sudo $0 $*" >&2
	exit 1
fi
"$ROOT/hack/build-cluster-bins.sh"
(cd "$ROOT" && go build -o "$BIN" ./harness/cmd/cluster)

mkdir -p "$DIR"
if [[ -f $DIR/ready ]] && kill -0 "$(cat "$DIR/cluster.pid" 2>/dev/null)" 2>/dev/null; then
	echo "cluster-up: already running:" >&2
	cat "$DIR/ready"
	exit 0
fi
# A cluster killed without teardown leaves its manifest: clean it up first.
"$BIN" down -state-dir "$DIR"
rm -rf "$DIR/logs" "$DIR/etcd" "$DIR/pods"

cd "$ROOT"
setsid "$BIN" up -state-dir "$DIR" -proxy-mode "$MODE" -nodes "$NODES" -dual-stack="$([[ $STACK == single ]] && echo false || echo true)" >"$DIR/cluster.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 300); do
	if [[ -f $DIR/ready ]]; then
		cat "$DIR/ready"
		echo
		echo "export KUBECONFIG=$DIR/kubeconfig"
		echo "logs: $DIR/logs   stop: hack/cluster-down.sh (make cluster-down)"
		exit 0
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "cluster-up: failed; see $DIR/cluster.log:" >&2
		tail -20 "$DIR/cluster.log" >&2
		exit 1
	fi
	sleep 0.5
done
echo "cluster-up: not ready after 150s; see $DIR/cluster.log; stopping" >&2
"$BIN" down -state-dir "$DIR"
exit 1
