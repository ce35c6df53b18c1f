#!/usr/bin/env bash
# Installs the Debian packages the test tiers use. As root it installs what
# is missing; otherwise it prints the apt-get command to run.
set -euo pipefail
# All of them up front: the cluster binaries build in the background while
# the other tiers run, and two apt runs at once would fight over its lock.
pkgs=(iptables nftables conntrack iproute2 ipvsadm ipset etcd-server tmux qemu-system-x86 busybox-static cpio kmod)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages: ${missing[*]}; install them with: sudo apt-get install -y ${missing[*]}" >&2
	[ "${CI:-}" = true ] && exit 1
	exit 0
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
