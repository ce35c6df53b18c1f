package expected

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// upstreamMark adapts the mark: NewFakeProxier hard-codes "0x4000" where a
// real kube-proxy formats the default bit as "%#08x", i.e. "0x00004000".
func upstreamMark(s string) string { return strings.ReplaceAll(s, "0x00004000", "0x4000") }

// TestUpstreamDumps recreates the inputs of upstream tests holding complete
// expected dumps and compares the restore input with them.
func TestUpstreamDumps(t *testing.T) {
	tests := []struct {
		name     string
		services []*corev1.Service
		slices   []*discoveryv1.EndpointSlice
	}{
		{"TestOverallIPTablesRules", overallServices(), overallSlices()},
		{"TestSyncProxyRulesRepeated", repeatedServices(), repeatedSlices()},
		{"TestBadIPs", badIPServices(), badIPSlices()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Generate(upstreamNode(), tc.services, tc.slices)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sortLikeUpstream(upstreamMark(rs.RestoreInput()))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(readUpstream(t, tc.name), got); diff != "" {
				t.Errorf("restore input differs from upstream (-upstream +generated):\n%s", diff)
			}
		})
	}
}

func chainRules(rules []Rule, chain string) string {
	var b strings.Builder
	for _, r := range rules {
		if r.Chain == chain {
			b.WriteString(r.String() + "\n")
		}
	}
	return b.String()
}

// TestUpstreamDropInvalidRule ports TestDropInvalidRule's KUBE-FORWARD cases.
func TestUpstreamDropInvalidRule(t *testing.T) {
	const rest = `-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
`
	tests := []struct {
		nfacct, liberal bool
		drop            string
	}{
		{false, false, "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"},
		{true, false, "-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP\n"},
		{false, true, ""},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("nfacct=%t,liberal=%t", tc.nfacct, tc.liberal), func(t *testing.T) {
			n := upstreamNode()
			n.NFAcct, n.ConntrackTCPBeLiberal = tc.nfacct, tc.liberal
			rs, err := Generate(n, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.drop+rest, upstreamMark(chainRules(rs.Filter, ChainForward))); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// TestUpstreamNodePortsFirewall ports TestNodePorts' KUBE-FIREWALL checks
// and the nodeports jump they imply.
func TestUpstreamNodePortsFirewall(t *testing.T) {
	const fw = "-A KUBE-FIREWALL -m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n"
	const last = `-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" `
	tests := []struct {
		name      string
		family    corev1.IPFamily
		localhost bool
		addresses []string
		firewall  string
		jumps     string
	}{
		{"ipv4, localhost-nodeports enabled", corev1.IPv4Protocol, true, nil, fw,
			last + "-m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n"},
		{"ipv4, localhost-nodeports disabled", corev1.IPv4Protocol, false, nil, "",
			last + "-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8 -j KUBE-NODEPORTS\n"},
		{"ipv4, localhost-nodeports disabled, localhost in nodeport-addresses", corev1.IPv4Protocol, false,
			[]string{"192.168.0.0/24", "127.0.0.1/32"}, "", last + "-d 192.168.0.2 -j KUBE-NODEPORTS\n"},
		{"ipv4, localhost-nodeports enabled, multiple nodeport-addresses", corev1.IPv4Protocol, false,
			[]string{"192.168.0.0/24", "192.168.1.0/24", "2001:db8::/64"}, "",
			last + "-d 192.168.0.2 -j KUBE-NODEPORTS\n" + last + "-d 192.168.1.2 -j KUBE-NODEPORTS\n"},
		{"ipv6, localhost-nodeports enabled", corev1.IPv6Protocol, true, nil, "",
			last + "-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS\n"},
		{"ipv6, localhost-nodeports disabled", corev1.IPv6Protocol, false, nil, "",
			last + "-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS\n"},
		{"ipv6, localhost-nodeports disabled, multiple nodeport-addresses", corev1.IPv6Protocol, false,
			[]string{"192.168.0.0/24", "192.168.1.0/24", "2001:db8::/64"}, "",
			last + "-d 2001:db8::1 -j KUBE-NODEPORTS\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := upstreamNode()
			n.Family, n.LocalhostNodePorts, n.NodePortAddresses = tc.family, ptr(tc.localhost), tc.addresses
			n.LocalValue = map[corev1.IPFamily]string{corev1.IPv4Protocol: "10.0.0.0/8", corev1.IPv6Protocol: "fd00:10::/64"}[tc.family]
			rs, err := Generate(n, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.firewall, chainRules(rs.Filter, ChainFirewall)); diff != "" {
				t.Errorf("KUBE-FIREWALL:\n%s", diff)
			}
			if diff := cmp.Diff(tc.jumps, chainRules(rs.NAT, ChainServices)); diff != "" {
				t.Errorf("KUBE-SERVICES:\n%s", diff)
			}
		})
	}
}
