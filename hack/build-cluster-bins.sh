#!/usr/bin/env bash
# Builds the binaries of the local test cluster (harness/) into a cache that
# is keyed by version, so each one is built once per machine:
#
#   .cache/bin/<KUBE_VERSION>/{kube-apiserver,kube-controller-manager,kube-proxy}
#   .cache/bin/<SKEW_KUBE_VERSION>/kube-proxy   (older nodes' kube-proxy, each version)
#   .cache/bin/coredns-<COREDNS_VERSION>/coredns
#   .cache/bin/podserver            (rebuilt every time; seconds, from the build cache)
#
# It also checks the Debian packages the cluster runs (etcd, iptables, nft,
# conntrack, ip): as root it installs what is missing, otherwise it names it.
#
# Environment: KUBE_VERSION (v1.37.2), SKEW_KUBE_VERSIONS (v1.34.4 v1.35.4
# v1.36.3, the releases a node may run behind the control plane; empty skips
# them; SKEW_KUBE_VERSION, one version, is read too), COREDNS_VERSION (v1.15.0), SVCTRACE_CACHE (<repo>/.cache). A cold build takes about 16 minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
SKEW_KUBE_VERSIONS=${SKEW_KUBE_VERSIONS-${SKEW_KUBE_VERSION-v1.34.4 v1.35.4 v1.36.3}}
COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
CACHE=${SVCTRACE_CACHE:-$ROOT/.cache}
KUBEBIN=$ROOT/harness/kubebin
KUBE_DIR=$CACHE/bin/$KUBE_VERSION
COREDNS_DIR=$CACHE/bin/coredns-$COREDNS_VERSION

log() { printf 'build-cluster-bins: %s\n' "$*" >&2; }

# ensure_packages installs (as root) or names (otherwise) the Debian packages
# whose commands the harness runs.
ensure_packages() {
	local -A pkg_of=([etcd]=etcd-server [iptables]=iptables [nft]=nftables [conntrack]=conntrack [ip]=iproute2)
	local missing=() cmd
	for cmd in etcd iptables nft conntrack ip; do
		if ! command -v "$cmd" >/dev/null && [[ ! -x /usr/sbin/$cmd && ! -x /usr/bin/$cmd ]]; then
			missing+=("${pkg_of[$cmd]}")
		fi
	done
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) -ne 0 ]]; then
		log "missing packages: ${missing[*]}"
		log "install them with: sudo apt-get install -y ${missing[*]}"
		return 1
	fi
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
		{ apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
}

# gen_kubebin_mod writes harness/kubebin/go.mod for KUBE_VERSION when the one
# there requires another version.
gen_kubebin_mod() {
	grep -q "k8s.io/kubernetes $KUBE_VERSION\$" "$KUBEBIN/go.mod" 2>/dev/null && return 0
	write_kube_mod "$KUBEBIN" github.com/svctrace/kubectl-svctrace/harness/kubebin "$KUBE_VERSION"
	rm -f "$KUBEBIN/go.sum"
	# Without its own go.mod the CoreDNS main would join this module and
	# drag its newer dependencies into the kubernetes build.
	[[ -f $KUBEBIN/coredns/go.mod ]] || gen_coredns_mod
	(cd "$KUBEBIN" && go mod tidy)
}

# write_kube_mod DIR MODULE VERSION writes DIR/go.mod requiring
# k8s.io/kubernetes VERSION. k8s.io/kubernetes replaces every staging module
# with a path its module zip lacks; each such replace becomes the published
# staging version (v1.37.2 -> v0.37.2).
write_kube_mod() {
	local dir=$1 module=$2 version=$3
	log "generating $dir/go.mod for k8s.io/kubernetes $version"
	local upstream staging
	upstream=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$version" |
		sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	[[ -f $upstream ]] || { log "cannot download k8s.io/kubernetes@$version; check network and GOPROXY"; return 1; }
	staging=v0.${version#v1.}
	{
		echo "module $module"
		echo
		echo "go $(sed -n 's/^go //p' "$upstream")"
		echo
		echo "require k8s.io/kubernetes $version"
		echo
		echo "replace ("
		sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$upstream"
		echo ")"
	} >"$dir/go.mod"
}

# gen_coredns_mod does the same for the CoreDNS module.
gen_coredns_mod() {
	local dir=$KUBEBIN/coredns
	if grep -q "github.com/coredns/coredns $COREDNS_VERSION\$" "$dir/go.mod" 2>/dev/null; then
		return 0
	fi
	log "generating $dir/go.mod for CoreDNS $COREDNS_VERSION"
	local upstream
	upstream=$(cd "$dir" && GOFLAGS=-mod=mod go mod download -json "github.com/coredns/coredns@$COREDNS_VERSION" |
		sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
	[[ -f $upstream ]] || { log "cannot download github.com/coredns/coredns@$COREDNS_VERSION"; return 1; }
	printf 'module github.com/svctrace/kubectl-svctrace/harness/kubebin/coredns\n\ngo %s\n\nrequire github.com/coredns/coredns %s\n' \
		"$(sed -n 's/^go //p' "$upstream")" "$COREDNS_VERSION" >"$dir/go.mod"
	rm -f "$dir/go.sum"
	(cd "$dir" && go mod tidy)
}

build_kube() {
	local missing=() b
	for b in kube-apiserver kube-controller-manager kube-proxy; do
		[[ -x $KUBE_DIR/$b ]] || missing+=("./$b")
	done
	((${#missing[@]} == 0)) && { log "kubernetes $KUBE_VERSION binaries cached in $KUBE_DIR"; return 0; }
	gen_kubebin_mod
	log "building ${missing[*]} ($KUBE_VERSION); about 16 minutes from cold on 2 cores"
	go_build_kube "$KUBEBIN" "$KUBE_VERSION" "$KUBE_DIR" "${missing[@]}"
}

# build_skew_proxies builds kube-proxy alone at each of SKEW_KUBE_VERSIONS,
# the older kube-proxies a node may run against a newer control plane.
# Their modules live in the cache, so harness/kubebin/go.mod stays at
# KUBE_VERSION.
build_skew_proxies() {
	local v
	for v in $SKEW_KUBE_VERSIONS; do
		build_skew_proxy "$v"
	done
}

build_skew_proxy() {
	local version=$1
	[[ $version == "$KUBE_VERSION" ]] && return 0
	local out=$CACHE/bin/$version mod=$CACHE/kubebin-$version
	[[ -x $out/kube-proxy ]] && { log "kube-proxy $version cached in $out"; return 0; }
	if ! grep -q "k8s.io/kubernetes $version\$" "$mod/go.mod" 2>/dev/null; then
		rm -rf "$mod"
		mkdir -p "$mod/kube-proxy"
		cp "$KUBEBIN/kube-proxy/main.go" "$mod/kube-proxy/"
		write_kube_mod "$mod" svctrace.local/kubebin-skew "$version"
		(cd "$mod" && go mod tidy)
	fi
	log "building kube-proxy $version; about 8 minutes from cold on 2 cores"
	go_build_kube "$mod" "$version" "$out" ./kube-proxy
}

# go_build_kube DIR VERSION OUT PKG... builds the mains PKG of the module in
# DIR, stamped as VERSION, into OUT.
go_build_kube() {
	local dir=$1 version=$2 out=$3
	shift 3
	local minor ldflags=() tmp pkg
	minor=$(cut -d. -f2 <<<"${version#v}")
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=("-X $pkg.gitVersion=$version" "-X $pkg.gitMajor=1" "-X $pkg.gitMinor=$minor"
			"-X $pkg.gitTreeState=clean" "-X $pkg.buildDate=1970-01-01T00:00:00Z")
	done
	tmp=$(mktemp -d "$CACHE/bin/.build.XXXXXX")
	build_dirs+=("$tmp")
	(cd "$dir" && go build -ldflags "${ldflags[*]}" -o "$tmp/" "$@")
	mkdir -p "$out"
	mv "$tmp"/* "$out/"
	rmdir "$tmp"
}

build_coredns() {
	[[ -x $COREDNS_DIR/coredns ]] && { log "coredns $COREDNS_VERSION cached in $COREDNS_DIR"; return 0; }
	gen_coredns_mod
	local tmp
	tmp=$(mktemp -d "$CACHE/bin/.build.XXXXXX")
	build_dirs+=("$tmp")
	log "building coredns $COREDNS_VERSION; about 4 minutes from cold"
	(cd "$KUBEBIN/coredns" && go build -o "$tmp/coredns" .)
	mkdir -p "$COREDNS_DIR"
	mv "$tmp/coredns" "$COREDNS_DIR/"
	rmdir "$tmp"
}

build_podserver() {
	(cd "$ROOT" && go build -o "$CACHE/bin/podserver" ./harness/podserver)
}

# build_dirs are removed on exit, so an interrupted build leaves no partial
# output in the cache.
build_dirs=()
trap 'rm -rf "${build_dirs[@]}"' EXIT

main() {
	mkdir -p "$CACHE/bin"
	ensure_packages
	case "${1:-all}" in
	kube) build_kube ;;
	skew) build_skew_proxies ;;
	coredns) build_coredns ;;
	podserver) build_podserver ;;
	all) build_kube && build_skew_proxies && build_coredns && build_podserver ;;
	*) log "unknown target ${1}; use kube, skew, coredns, podserver or all"; return 2 ;;
	esac
	log "done: $KUBE_DIR $COREDNS_DIR $CACHE/bin/podserver"
}

main "$@"
