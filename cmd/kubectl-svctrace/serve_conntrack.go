package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"k8s.io/klog/v2"
)

// sysctlDir is where the kernel's sysctls are read and written.
const sysctlDir = "/proc/sys"

// apply sets the connection-tracking sysctls kube-proxy sets at start
// (cmd/kube-proxy's conntrack setup): nf_conntrack_max raised (never
// lowered) to maxPerCore per CPU, at least min, and the two TCP timeouts.
// A value that cannot be written is logged and left: nf_conntrack_max is
// read-only outside the host's network namespace.
func (c conntrackFlags) apply(dir string) {
	if c.maxPerCore > 0 {
		want := max(c.maxPerCore*runtime.NumCPU(), c.min)
		if have, err := readSysctl(dir, "net/netfilter/nf_conntrack_max"); err != nil || have < want {
			writeSysctl(dir, "net/netfilter/nf_conntrack_max", want)
		}
	}
	for name, d := range map[string]int{
		"net/netfilter/nf_conntrack_tcp_timeout_established": int(c.tcpEstablished.Seconds()),
		"net/netfilter/nf_conntrack_tcp_timeout_close_wait":  int(c.tcpCloseWait.Seconds()),
	} {
		if d > 0 {
			if have, err := readSysctl(dir, name); err != nil || have != d {
				writeSysctl(dir, name, d)
			}
		}
	}
}

func readSysctl(dir, name string) (int, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// writeSysctl sets one of the sysctls kube-proxy sets; a failure is
// logged, as kube-proxy logs it, and the sync goes on.
func writeSysctl(dir, name string, v int) {
	if err := os.WriteFile(filepath.Join(dir, name), []byte(strconv.Itoa(v)), 0o644); err != nil {
		klog.InfoS("Could not set a sysctl kube-proxy sets; set it on the host", "sysctl", strings.ReplaceAll(name, "/", "."), "value", v, "err", err)
		return
	}
	klog.InfoS("Set a sysctl as kube-proxy does", "sysctl", strings.ReplaceAll(name, "/", "."), "value", v)
}
