package trace

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
)

// nodeView resolves whose view the dataplane hop shows and that node's facts.
type nodeView struct {
	name        string
	ips         []netip.Addr
	clusterCIDR netip.Prefix
	// nfacct is set when the node's kube-proxy had nfacct counters, which
	// add "-m nfacct" matches to some of its rules.
	nfacct bool
	from   string
	src    netip.Addr
}

func resolveNode(in Input, t *Trace) nodeView {
	d := in.Dataplane
	v := nodeView{name: d.Node, ips: d.NodeIPs, clusterCIDR: d.ClusterCIDR, from: d.From, src: d.FromIP}
	if v.name == "" && len(t.Nodes) > 0 {
		v.name = t.Nodes[0].Name
	}
	if len(v.ips) == 0 {
		for _, n := range in.Nodes {
			if n.Name == v.name {
				v.ips = nodeAddrs(&n)
			}
		}
	}
	if !v.clusterCIDR.IsValid() && d.IPTables != nil {
		v.clusterCIDR = inferClusterCIDR(d.IPTables)
	}
	v.nfacct = d.IPTables != nil && usesNFAcct(d.IPTables)
	if v.from == "" {
		v.from = entryFor(v)
	}
	if !v.src.IsValid() {
		v.src = defaultSource(v, in)
	}
	return v
}

func nodeAddrs(n *corev1.Node) []netip.Addr {
	var out []netip.Addr
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP && a.Type != corev1.NodeExternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil {
			out = append(out, ip)
		}
	}
	return out
}

// defaultSource picks a client address fitting the entry: the --from pod's
// IP, a node address, or a documentation address for outside clients. A pod
// client without a named pod gets the last address of the cluster CIDR, so
// no endpoint is mistaken for the client (hairpin).
func defaultSource(v nodeView, in Input) netip.Addr {
	switch v.from {
	case "node":
		if len(v.ips) > 0 {
			return v.ips[0]
		}
	case "external":
		return netip.MustParseAddr("203.0.113.50")
	}
	if in.FromPod != nil {
		if ip, err := netip.ParseAddr(in.FromPod.Status.PodIP); err == nil {
			return ip
		}
	}
	if v.clusterCIDR.IsValid() {
		return lastAddr(v.clusterCIDR)
	}
	return netip.MustParseAddr("10.244.255.254")
}

// lastAddr is the highest address of p below its broadcast address.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	b[len(b)-1]--
	a, _ := netip.AddrFromSlice(b)
	return a
}

// inferClusterCIDR reads kube-proxy's local-traffic detector from a
// KUBE-SVC chain's masquerade rule: "! -s CIDR -j KUBE-MARK-MASQ".
func inferClusterCIDR(d *iptables.Dump) netip.Prefix {
	nat := d.Table("nat")
	if nat == nil {
		return netip.Prefix{}
	}
	for _, c := range nat.Chains {
		if !strings.HasPrefix(c.Name, "KUBE-SVC-") {
			continue
		}
		for _, r := range c.Rules {
			if r.Target.Name == "KUBE-MARK-MASQ" && r.Source.Negated && r.Source.Prefix.IsValid() {
				return r.Source.Prefix
			}
		}
	}
	return netip.Prefix{}
}

// entryFor places a bare --from IP: a node address enters from the node, an
// address outside the cluster CIDR from outside, anything else from a pod.
func entryFor(v nodeView) string {
	if !v.src.IsValid() {
		return "pod"
	}
	for _, ip := range v.ips {
		if ip == v.src {
			return "node"
		}
	}
	if v.clusterCIDR.IsValid() && !v.clusterCIDR.Contains(v.src) {
		return "external"
	}
	return "pod"
}

// usesNFAcct reports whether kube-proxy wrote nfacct matches: it does so
// for every rule that counts, when the kernel has nfacct.
func usesNFAcct(d *iptables.Dump) bool {
	for _, t := range d.Tables {
		for _, c := range t.Chains {
			if !strings.HasPrefix(c.Name, "KUBE-") {
				continue
			}
			for _, r := range c.Rules {
				for _, m := range r.Matches {
					if m.Module() == "nfacct" {
						return true
					}
				}
			}
		}
	}
	return false
}
