package iptables

import (
	"net/netip"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// InferFlags reads the kube-proxy flags that shaped a node's rules, as far
// as its dump reveals them: the local-traffic detector from the masquerade
// rule that opens every KUBE-SVC chain ("! -s CIDR", "! -i veth+", "! -i
// cbr0", or none for --masquerade-all) and nfacct counters. Scoped
// --serve's SVCT- chains say the same as kube-proxy's. ipv6 is set
// for an ip6tables-save dump.
func InferFlags(d *Dump) (flags dataplane.ProxyFlags, ipv6 bool) {
	services, nodePorts := false, false
	for _, t := range d.Tables {
		for _, c := range t.Chains {
			if !strings.HasPrefix(expected.KubeName(c.Name), "KUBE-") {
				continue
			}
			if t.Name == "nat" && expected.KubeName(c.Name) == expected.ChainServices {
				services = true
			}
			for _, r := range c.Rules {
				ipv6 = noteRule(&flags, t.Name, c.Name, r) || ipv6
				nodePorts = nodePorts || t.Name == "nat" && expected.KubeName(r.Target.Name) == expected.ChainNodePorts
			}
		}
	}
	if services && !nodePorts {
		// --nodeport-addresses selected none of the node's addresses:
		// nothing is sent to KUBE-NODEPORTS.
		flags.NodePortAddresses = []netip.Prefix{}
	}
	return flags, ipv6
}

// noteRule notes what r says of the flags and reports whether its
// destination is an IPv6 address.
func noteRule(f *dataplane.ProxyFlags, table, chain string, r *Rule) (ipv6 bool) {
	for _, m := range r.Matches {
		if m.Module() == "nfacct" {
			f.NFAcct = true
		}
	}
	ipv6 = r.Destination.Prefix.IsValid() && r.Destination.Prefix.Addr().Is6() && !r.Destination.Prefix.Addr().Is4In6()
	kc := expected.KubeName(chain)
	if table == "nat" && kc == expected.ChainServices && expected.KubeName(r.Target.Name) == expected.ChainNodePorts {
		noteNodePorts(f, r)
		return ipv6
	}
	// The cluster-IP masquerade rule opens the Service's KUBE-SVC chain, or,
	// as older releases wrote it, sits in KUBE-SERVICES.
	if table != "nat" || !(strings.HasPrefix(kc, expected.PrefixCluster) || kc == expected.ChainServices) || expected.KubeName(r.Target.Name) != expected.ChainMarkMasq {
		return ipv6
	}
	switch {
	case r.Source.Negated && r.Source.Prefix.IsValid():
		f.ClusterCIDR = r.Source.Prefix
	case r.InInterface.Negated && strings.HasSuffix(r.InInterface.Value, "+"):
		f.InterfacePrefix = strings.TrimSuffix(r.InInterface.Value, "+")
	case r.InInterface.Negated && r.InInterface.Value != "":
		f.Bridge = r.InInterface.Value
	case !r.Source.IsSet() && !r.InInterface.IsSet():
		f.MasqueradeAll = true
	}
	return ipv6
}

// noteNodePorts reads --nodeport-addresses from the rules at the end of
// KUBE-SERVICES that send to KUBE-NODEPORTS: one per accepted address
// when the flag narrows them, else one for every local address, which
// excludes 127.0.0.0/8 when localhost NodePorts are off.
func noteNodePorts(f *dataplane.ProxyFlags, r *Rule) {
	if r.Destination.IsSet() && !r.Destination.Negated {
		f.NodePortAddresses = append(f.NodePortAddresses, r.Destination.Prefix)
		return
	}
	if r.Destination.Negated && r.Destination.Prefix.Addr().Is4() && r.Destination.Prefix.Addr().IsLoopback() {
		f.NoLocalhostNodePorts = true
	}
}
