#!/usr/bin/env bash
# Tears down the cluster started by hack/cluster-up.sh: stops its processes,
# deletes its network namespaces and links. Logs stay in the state directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${SVCTRACE_CLUSTER_DIR:-$ROOT/.cache/cluster}
BIN=$ROOT/.cache/bin/cluster

if [[ ! -d $DIR ]]; then
	echo "cluster-down: no cluster state in $DIR" >&2
	exit 0
fi
if [[ ! -x $BIN ]]; then
	(cd "$ROOT" && go build -o "$BIN" ./harness/cmd/cluster)
fi
"$BIN" down -state-dir "$DIR"
echo "cluster-down: stopped; logs kept in $DIR/logs"
