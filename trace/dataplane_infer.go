package trace

import (
	"net/netip"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
)

// proxySettings are the kube-proxy flags that shape its rules, as far as a
// node's dump reveals them; the expected rules must use the same.
type proxySettings struct {
	// clusterCIDR is the ClusterCIDR local-traffic detector ("! -s CIDR").
	clusterCIDR netip.Prefix
	// ifacePrefix and bridge are the InterfaceNamePrefix and
	// BridgeInterface detectors ("! -i veth+", "! -i cbr0").
	ifacePrefix, bridge string
	// masqueradeAll is --masquerade-all: every Service packet is marked.
	masqueradeAll bool
	// nfacct is set when kube-proxy had nfacct counters ("-m nfacct").
	nfacct bool
	// ipv6 is set for an ip6tables-save dump.
	ipv6 bool
}

// inferProxySettings reads the settings from the masquerade rule that
// opens every KUBE-SVC chain, the nfacct matches and the address family.
func inferProxySettings(d *iptables.Dump) proxySettings {
	var ps proxySettings
	for _, t := range d.Tables {
		for _, c := range t.Chains {
			if !strings.HasPrefix(c.Name, "KUBE-") {
				continue
			}
			for _, r := range c.Rules {
				ps.noteRule(t.Name, c.Name, r)
			}
		}
	}
	return ps
}

func (ps *proxySettings) noteRule(table, chain string, r *iptables.Rule) {
	for _, m := range r.Matches {
		if m.Module() == "nfacct" {
			ps.nfacct = true
		}
	}
	if r.Destination.Prefix.IsValid() && r.Destination.Prefix.Addr().Is6() && !r.Destination.Prefix.Addr().Is4In6() {
		ps.ipv6 = true
	}
	if table != "nat" || !strings.HasPrefix(chain, "KUBE-SVC-") || r.Target.Name != "KUBE-MARK-MASQ" {
		return
	}
	switch {
	case r.Source.Negated && r.Source.Prefix.IsValid():
		ps.clusterCIDR = r.Source.Prefix
	case r.InInterface.Negated && strings.HasSuffix(r.InInterface.Value, "+"):
		ps.ifacePrefix = strings.TrimSuffix(r.InInterface.Value, "+")
	case r.InInterface.Negated && r.InInterface.Value != "":
		ps.bridge = r.InInterface.Value
	case !r.Source.IsSet() && !r.InInterface.IsSet():
		ps.masqueradeAll = true
	}
}
