package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// TestConntrackSysctlsAsKubeProxy: nf_conntrack_max is raised to the
// per-CPU count (at least the minimum) and never lowered, the TCP
// timeouts are set, and a zero flag leaves its sysctl alone.
func TestConntrackSysctlsAsKubeProxy(t *testing.T) {
	files := map[string]int{
		"net/netfilter/nf_conntrack_max":                     1000,
		"net/netfilter/nf_conntrack_tcp_timeout_established": 432000,
		"net/netfilter/nf_conntrack_tcp_timeout_close_wait":  60,
	}
	write := func(dir string, vals map[string]int) {
		for name, v := range vals {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(strconv.Itoa(v)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(dir, name string) int {
		v, err := readSysctl(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	dir := t.TempDir()
	write(dir, files)
	conntrackFlags{maxPerCore: 32768, min: 131072, tcpEstablished: 24 * time.Hour, tcpCloseWait: time.Hour}.apply(dir)
	if got, want := read(dir, "net/netfilter/nf_conntrack_max"), max(32768*runtime.NumCPU(), 131072); got != want {
		t.Errorf("nf_conntrack_max = %d, want %d", got, want)
	}
	if got := read(dir, "net/netfilter/nf_conntrack_tcp_timeout_established"); got != 86400 {
		t.Errorf("established timeout = %d, want 86400", got)
	}
	if got := read(dir, "net/netfilter/nf_conntrack_tcp_timeout_close_wait"); got != 3600 {
		t.Errorf("close-wait timeout = %d, want 3600", got)
	}

	dir = t.TempDir()
	files["net/netfilter/nf_conntrack_max"] = 10_000_000
	write(dir, files)
	conntrackFlags{maxPerCore: 32768, min: 131072}.apply(dir)
	if got := read(dir, "net/netfilter/nf_conntrack_max"); got != 10_000_000 {
		t.Errorf("a larger nf_conntrack_max was changed to %d", got)
	}
	if got := read(dir, "net/netfilter/nf_conntrack_tcp_timeout_established"); got != 432000 {
		t.Errorf("a zero flag changed the established timeout to %d", got)
	}
}
