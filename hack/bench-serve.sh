#!/usr/bin/env bash
# Runs --serve beside the real kube-proxy on the local cluster and prints
# both proxies' sync times (from their own /metrics) and peak RSS, side by
# side (docs/performance.md, "--serve against kube-proxy"). Nothing is
# asserted. Needs root and the cached cluster binaries
# (hack/build-cluster-bins.sh); it holds the e2e lock while it runs, as
# the cluster uses fixed ports inside its node namespaces.
#   hack/bench-serve.sh [-services N] [-endpoints E] [-changes C] [-mode iptables|nftables]
set -euo pipefail
cd "$(dirname "$0")/.."
export SVCTRACE_CACHE=${SVCTRACE_CACHE:-/var/cache/kubectl-svctrace}
go build -o /tmp/benchserve.$$ ./hack/benchserve
trap 'rm -f /tmp/benchserve.$$' EXIT
flock /tmp/svctrace-e2e.lock /tmp/benchserve.$$ "$@"
