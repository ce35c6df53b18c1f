#!/usr/bin/env bash
# make dist: the release snapshot and the plugin's image, as a v* tag's
# release makes them, into dist/:
#   goreleaser check, then goreleaser release --snapshot --clean
#     (archives for every platform, checksums.txt, krew/svctrace.yaml)
#   hack/tools/mkimage: dist/image (OCI layout, linux/amd64 + linux/arm64)
#     and dist/image.json (its name and sizes)
#
# goreleaser, krew and validate-krew-manifest are the versions pinned in
# hack/tools/go.mod and hack/tools/krew/go.mod, built once per version into
# $SVCTRACE_CACHE/tools (default .cache/tools). `hack/dist.sh tools` only
# builds them and prints the directory of each.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SVCTRACE_CACHE:-$ROOT/.cache}/tools
log() { printf 'dist: %s\n' "$*" >&2; }

# tool_dir NAME MODULE_DIR MODULE PACKAGE... builds the packages of MODULE
# at the version MODULE_DIR/go.mod requires into a directory named for NAME
# and that version, once, and prints that directory.
tool_dir() {
	local name=$1 moddir=$2 module=$3
	shift 3
	local version dir tmp
	version=$(cd "$moddir" && go list -m -f '{{.Version}}' "$module")
	dir=$CACHE/$name-$version-$(go env GOOS)-$(go env GOARCH)
	if [[ ! -f $dir/.complete ]]; then
		log "building $module $version (once; cached in $dir)"
		mkdir -p "$CACHE"
		tmp=$(mktemp -d "$CACHE/.build.XXXXXX")
		# shellcheck disable=SC2064 # expand tmp now
		trap "rm -rf '$tmp'" EXIT
		(cd "$moddir" && go build -o "$tmp/" "$@")
		touch "$tmp/.complete"
		rm -rf "$dir"
		mv "$tmp" "$dir"
		trap - EXIT
	fi
	echo "$dir"
}

goreleaser_dir() {
	tool_dir goreleaser "$ROOT/hack/tools" github.com/goreleaser/goreleaser/v2 github.com/goreleaser/goreleaser/v2
}

krew_dir() {
	tool_dir krew "$ROOT/hack/tools/krew" sigs.k8s.io/krew sigs.k8s.io/krew/cmd/krew sigs.k8s.io/krew/cmd/validate-krew-manifest
}

main() {
	cd "$ROOT"
	case "${1:-dist}" in
	tools)
		echo "GORELEASER_DIR=$(goreleaser_dir)"
		echo "KREW_DIR=$(krew_dir)"
		;;
	dist)
		local gr
		gr=$(goreleaser_dir)/goreleaser
		# goreleaser reads the commit only where a remote is configured;
		# a clone without one (a worktree of a local repository) gets the
		# project's URL through git's environment, not its config file.
		if [[ -z $(git remote) ]]; then
			export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url \
				GIT_CONFIG_VALUE_0=https://github.com/svctrace/kubectl-svctrace.git
		fi
		"$gr" check
		"$gr" release --snapshot --clean ${GORELEASER_FLAGS:-}
		(cd hack/tools && go run ./mkimage -dist "$ROOT/dist" -tools "$ROOT/internal/hostexec/tools.txt")
		;;
	*)
		log "unknown target $1; use dist or tools"
		return 2
		;;
	esac
}

main "$@"
