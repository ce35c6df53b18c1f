#!/usr/bin/env bash
# Compares what nft and the kernel charge for kube-proxy's nftables layout
# and three other layouts of the same Services (docs/performance.md,
# "Other nftables layouts"): a generated cluster of SERVICES Services x 10
# pods (hack/gendump), the transaction `--serve --proxy-mode nftables
# --replace-kube-proxy --dry-run` writes for one of its nodes, and
# hack/nftlayouts loading each layout into a network namespace of its own.
# Nothing is asserted. Needs root and nft.
#   hack/nft-layouts.sh [SERVICES]
set -euo pipefail
cd "$(dirname "$0")/.."
services=${1:-2000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go build -o "$dir/kubectl-svctrace" ./cmd/kubectl-svctrace
go build -o "$dir/gendump" ./hack/gendump
go build -o "$dir/nftlayouts" ./hack/nftlayouts
"$dir/gendump" -services "$services" -pods 10 -o "$dir/cluster.yaml"
"$dir/kubectl-svctrace" --serve --proxy-mode nftables --replace-kube-proxy --dry-run \
	-f "$dir/cluster.yaml" --node node-0001 >"$dir/tx"
"$dir/nftlayouts" -tx "$dir/tx"
