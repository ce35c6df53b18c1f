#!/usr/bin/env bash
# Runs the kernel/ipvs VM tests (build tag ipvsvm) against a real IPVS:
# a stock Debian kernel booted under qemu, so the test runs on hosts whose
# kernel has no IPVS (ip_vs) and needs no KVM.
#
# Usage: harness/ipvsvm/run.sh [go test -run pattern]
# Env:   IPVSVM_PKG    the package whose ipvsvm tests run (default ./kernel/ipvs;
#                      ./cmd/kubectl-svctrace runs --serve --proxy-mode ipvs)
#        IPVSVM_TEST_BIN  a test binary built already (CGO_ENABLED=0 go test -c
#                      -tags ipvsvm) instead of building IPVSVM_PKG here
#        IPVSVM_NET=1  give the VM a NIC on qemu's user network (10.0.2.15, the
#                      host reachable through it): for a control plane on the host
#        IPVSVM_FILES  "SRC:DEST ..." more files for the VM (DEST absolute; the
#                      libraries of dynamically linked programs come along)
#        IPVSVM_ENV    "NAME=VALUE ..." exported for the test in the VM
#        IPVSVM_MEM    the VM's memory in MiB (default 1024)
#        IPVSVM_CACHE  kernel cache (default <repo>/.cache/ipvsvm)
#        IPVSVM_TIMEOUT seconds for the VM (default 300)
#        IPVSVM_KEEP=1 keep the work folder for inspection
#        IPVSVM_KVM=1  use KVM instead of software emulation
#        CI=true       fail instead of skipping when the VM cannot be built
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${IPVSVM_CACHE:-$repo/.cache/ipvsvm}
timeout_s=${IPVSVM_TIMEOUT:-300}
run_pattern=${1:-TestVM}
test_pkg=${IPVSVM_PKG:-./kernel/ipvs}

skip() {
	if [[ "${CI:-}" == "true" ]]; then
		echo "ipvsvm: FAIL: $*" >&2
		exit 1
	fi
	echo "ipvsvm: SKIP: $*"
	exit 0
}

need_packages() {
	local missing=()
	command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
	command -v cpio >/dev/null || missing+=(cpio)
	command -v depmod >/dev/null || missing+=(kmod)
	command -v ipvsadm >/dev/null || missing+=(ipvsadm)
	command -v xtables-legacy-multi >/dev/null || missing+=(iptables)
	command -v ipset >/dev/null || missing+=(ipset)
	((${#missing[@]} == 0)) && return 0
	if [[ $(id -u) -ne 0 ]]; then
		skip "missing packages ${missing[*]}; install them as root (apt-get install --no-install-recommends ${missing[*]})"
	fi
	echo "ipvsvm: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# kernel_package sets pkg to the versioned package linux-image-amd64 depends
# on; the name changes with every security update, so it is never hard-coded.
kernel_package() {
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [[ -z "$pkg" && $(id -u) -eq 0 ]]; then
		apt-get update -qq
		pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[[ -n "$pkg" ]] || skip "cannot resolve the kernel package behind linux-image-amd64 (apt-cache depends found nothing; run apt-get update)"
}

# fetch_kernel unpacks the kernel package into $cache/<pkg> once and sets kroot.
fetch_kernel() {
	local pkg=$1 dir=$cache/$1
	if [[ ! -f $dir/.ready ]]; then
		rm -rf "$dir" && mkdir -p "$dir/root"
		(cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "$pkg") || skip "apt-get download $pkg failed"
		dpkg -x "$dir"/*.deb "$dir/root"
		rm -f "$dir"/*.deb
		touch "$dir/.ready"
	fi
	kroot=$dir/root
}

# IPVS and its schedulers; what --serve --proxy-mode ipvs needs besides:
# ip sets, the legacy iptables and ip6tables tables and matches its rules
# use, the dummy interface, and veth for the test's endpoint namespaces.
needs=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh ip_vs_mh ip_vs_lc
	ip_set ip_set_hash_ip ip_set_hash_ipport ip_set_hash_ipportip ip_set_hash_ipportnet ip_set_bitmap_port
	ip_tables iptable_nat iptable_filter nf_nat xt_set xt_MASQUERADE xt_addrtype xt_comment xt_mark
	xt_conntrack ipt_REJECT xt_physdev xt_ipvs dummy veth
	ip6_tables ip6table_nat ip6table_filter ip6t_REJECT)
[[ "${IPVSVM_NET:-}" == 1 ]] && needs+=(virtio_pci virtio_net)

# copy_program copies SRC to ROOT/DEST, with the libraries ldd lists.
copy_program() {
	local ir=$1 src=$2 dest=$3 lib
	mkdir -p "$ir$(dirname "$dest")"
	cp -L "$src" "$ir$dest"
	for lib in $(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		[[ -e "$ir$lib" ]] || { mkdir -p "$ir$(dirname "$lib")" && cp -L "$lib" "$ir$lib"; }
	done
}

# build_initramfs copies busybox, the modules IPVS needs (in their normal
# layout, indexed by depmod so busybox modprobe and the kernel's on-demand
# scheduler loading work), ipvsadm with its libraries, and the test binary.
build_initramfs() {
	local kroot=$1 kver=$2 work=$3 test_bin=$4
	local ir=$work/initramfs
	mkdir -p "$ir"/{bin,sbin,proc,sys,dev,run,tmp,etc,lib/modules/"$kver"}
	cp /bin/busybox "$ir/bin/busybox"
	for a in sh mount mkdir cat echo ip modprobe poweroff sleep ls; do ln -s busybox "$ir/bin/$a"; done
	ln -s ../bin/modprobe "$ir/sbin/modprobe"
	depmod -b "$kroot" "$kver"
	local mods
	mods=$(for m in "${needs[@]}"; do modprobe -d "$kroot" -S "$kver" --show-depends "$m"; done | awk '$1=="insmod"{print $2}' | sort -u | grep -v crc32c-intel)
	for m in $mods; do
		local rel=${m#"$kroot"/lib/modules/"$kver"/}
		mkdir -p "$ir/lib/modules/$kver/$(dirname "$rel")"
		case $m in
		*.xz) xz -dc "$m" >"$ir/lib/modules/$kver/${rel%.xz}" ;;
		*.zst) zstd -qdc "$m" >"$ir/lib/modules/$kver/${rel%.zst}" ;;
		*) cp "$m" "$ir/lib/modules/$kver/$rel" ;;
		esac
	done
	cp "$kroot/lib/modules/$kver/modules.order" "$kroot/lib/modules/$kver/modules.builtin"* "$ir/lib/modules/$kver/" 2>/dev/null || true
	depmod -b "$ir" "$kver"
	local ipvsadm_bin
	ipvsadm_bin=$(command -v ipvsadm)
	cp "$ipvsadm_bin" "$ir/sbin/ipvsadm"
	for lib in $(ldd "$ipvsadm_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		mkdir -p "$ir$(dirname "$lib")" && cp -L "$lib" "$ir$lib"
	done
	# iptables (legacy backend: its tables are plain modules) with its
	# extensions; a missing iptables-nft makes kernel/iptables pick legacy.
	local xt
	xt=$(command -v xtables-legacy-multi)
	cp "$xt" "$ir/sbin/xtables-legacy-multi"
	for a in iptables iptables-legacy iptables-legacy-restore iptables-legacy-save iptables-restore iptables-save; do
		ln -s xtables-legacy-multi "$ir/sbin/$a"
		ln -s xtables-legacy-multi "$ir/sbin/${a/iptables/ip6tables}"
	done
	for lib in $(ldd "$xt" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		mkdir -p "$ir$(dirname "$lib")" && cp -L "$lib" "$ir$lib"
	done
	local xtlib
	xtlib=$(readlink -f "$(dirname "$(ldd "$xt" | awk '/libxtables/ {print $3}')")")/xtables
	mkdir -p "$ir$xtlib" && cp "$xtlib"/libxt_*.so "$xtlib"/libipt_*.so "$xtlib"/libip6t_*.so "$ir$xtlib/"
	# ipset: kube-proxy's IPVS mode runs it (--serve itself speaks netlink).
	# Without /etc/protocols it lists "6:80" where kube-proxy writes
	# "tcp:80", and kube-proxy rewrites every entry at every sync.
	copy_program "$ir" "$(command -v ipset)" /sbin/ipset
	cp /etc/protocols "$ir/etc/protocols"
	local f
	for f in ${IPVSVM_FILES:-}; do
		copy_program "$ir" "${f%%:*}" "${f#*:}"
	done
	: >"$ir/env"
	for f in ${IPVSVM_ENV:-}; do
		printf 'export %q\n' "$f" >>"$ir/env"
	done
	cp "$test_bin" "$ir/ipvs.test"
	sed -e "s/@RUN@/$run_pattern/" -e "s/@MODULES@/${needs[*]}/" "$here/init.sh" >"$ir/init"
	chmod +x "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$work/initrd.gz"
}

main() {
	need_packages
	mkdir -p "$cache"
	local kver
	kernel_package
	fetch_kernel "$pkg"
	kver=$(basename "$(ls -d "$kroot"/lib/modules/*/ | head -1)")
	# work is global: the EXIT trap runs after this function returns.
	work=$(mktemp -d "${TMPDIR:-/tmp}/ipvsvm.XXXXXX")
	[[ "${IPVSVM_KEEP:-}" == 1 ]] || trap 'rm -rf "$work"' EXIT

	echo "ipvsvm: kernel $pkg ($kver)"
	if [[ -n "${IPVSVM_TEST_BIN:-}" ]]; then
		cp "$IPVSVM_TEST_BIN" "$work/ipvs.test"
	else
		(cd "$repo" && CGO_ENABLED=0 go test -c -tags ipvsvm -ldflags=-s -o "$work/ipvs.test" "$test_pkg")
	fi
	build_initramfs "$kroot" "$kver" "$work" "$work/ipvs.test"

	local accel=() net=(-nic none)
	[[ "${IPVSVM_NET:-}" == 1 ]] && net=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0)
	# Software emulation is the default: it needs nothing from the host and
	# boots in seconds; KVM is optional (IPVSVM_KVM=1) as nested KVM can abort qemu.
	[[ "${IPVSVM_KVM:-}" == 1 ]] && accel=(-enable-kvm -cpu host)
	set +e
	timeout "$timeout_s" qemu-system-x86_64 "${accel[@]}" -m "${IPVSVM_MEM:-1024}" -smp 1 -nodefaults "${net[@]}" -serial stdio \
		-display none -no-reboot -kernel "$kroot/boot/vmlinuz-$kver" -initrd "$work/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet" </dev/null >"$work/serial.log" 2>&1
	local rc=$?
	set -e
	tr -d '\r' <"$work/serial.log" >"$work/serial.txt"
	cat "$work/serial.txt"
	if grep -qx 'IPVSVM-RESULT: PASS' "$work/serial.txt"; then
		echo "ipvsvm: PASS"
		return 0
	fi
	((rc == 124)) && echo "ipvsvm: FAIL: VM did not finish within ${timeout_s}s (IPVSVM_TIMEOUT)" >&2
	echo "ipvsvm: FAIL: no 'IPVSVM-RESULT: PASS' line on the serial console (qemu exit $rc); set IPVSVM_KEEP=1 to keep $work" >&2
	return 1
}

main "$@"
