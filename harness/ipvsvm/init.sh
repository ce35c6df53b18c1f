#!/bin/sh
# /init of the IPVS test VM: mount, load IPVS, run the Go test, report, power off.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
ip link set lo up
mkdir -p /run /tmp
export PATH=/sbin:/bin TMPDIR=/tmp
for m in @MODULES@; do
	modprobe "$m" || echo "modprobe $m failed"
done
if [ -e /sys/class/net/eth0 ]; then
	# qemu's user network: the host is 10.0.2.2.
	ip link set eth0 up
	ip addr add 10.0.2.15/24 dev eth0
	ip route add default via 10.0.2.2
fi
. /env
cd /
if /ipvs.test -test.v -test.count=1 -test.run '@RUN@'; then
	echo "IPVSVM-RESULT: PASS"
else
	echo "IPVSVM-RESULT: FAIL"
fi
poweroff -f
