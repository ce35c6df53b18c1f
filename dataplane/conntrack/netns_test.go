package conntrack

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestRealConntrack makes a real UDP flow through a DNAT rule inside a
// network namespace of its own, reads the kernel's table with conntrack -L,
// and checks the parser and FindStale on it: the flow is stale once the
// Service's endpoint moved to another pod, and fine while it has not.
// The packet leaves through a veth pair inside the namespace and ends there.
func TestRealConntrack(t *testing.T) {
	netnstest.Require(t, "ip", "iptables", "conntrack")
	ns := netnstest.New(t, "ct")
	for _, args := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		// Both ends of the pair stay in the namespace; the peer has no
		// address, so nothing answers and the packet goes no further.
		{"ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"},
		{"ip", "addr", "add", "10.244.1.5/24", "dev", "v0"},
		{"ip", "link", "set", "v0", "up"},
		{"ip", "link", "set", "v1", "up"},
		{"ip", "route", "add", "default", "dev", "v0"},
		// What kube-proxy writes for a UDP Service, reduced to the DNAT.
		{"iptables", "-t", "nat", "-A", "OUTPUT", "-d", "10.96.0.10/32", "-p", "udp", "--dport", "53", "-j", "DNAT", "--to-destination", "10.244.1.7:53"},
		{"bash", "-c", "echo query > /dev/udp/10.96.0.10/53"},
	} {
		netnstest.Exec(t, ns, "", args...)
	}
	out := netnstest.Exec(t, ns, "", "conntrack", "-L", "-p", "udp")
	entries, err := Parse([]byte(out))
	if err != nil {
		t.Fatalf("parse conntrack -L output: %v\n%s", err, out)
	}
	var flow *Entry
	for i, e := range entries {
		if e.Original.Dst == netip.MustParseAddr("10.96.0.10") && e.Original.DPort == 53 {
			flow = &entries[i]
		}
	}
	if flow == nil {
		t.Fatalf("no entry for the flow to 10.96.0.10:53 in:\n%s", out)
	}
	if !flow.DNATed() || flow.Reply.Src != netip.MustParseAddr("10.244.1.7") || flow.Reply.SPort != 53 || flow.Protocol != "udp" {
		t.Errorf("entry %+v: want udp, DNATed, replying from 10.244.1.7:53", *flow)
	}
	vip := ServiceVIP{Service: "kube-system/kube-dns:dns", Protocol: "UDP", VIP: netip.MustParseAddrPort("10.96.0.10:53")}
	vip.Endpoints = []netip.AddrPort{netip.MustParseAddrPort("10.244.1.7:53")}
	if got := FindStale(entries, []ServiceVIP{vip}); len(got) != 0 {
		t.Errorf("endpoint unchanged: %d stale findings, want none: %+v", len(got), got)
	}
	vip.Endpoints = []netip.AddrPort{netip.MustParseAddrPort("10.244.2.9:53")}
	got := FindStale(entries, []ServiceVIP{vip})
	if len(got) != 1 || got[0].ID != StaleEntryID || !strings.Contains(got[0].Actual, "10.244.1.7:53") {
		t.Errorf("endpoint replaced: findings %+v, want one StaleConntrackEntry naming 10.244.1.7:53", got)
	}
}
