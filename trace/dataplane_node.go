package trace

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// nodeView resolves whose view the dataplane hop shows and that node's facts.
type nodeView struct {
	name string
	zone string
	ips  []netip.Addr
	// proxy are kube-proxy's settings on the node, read from its dump
	// where there is one (cluster CIDR, masquerade-all, nfacct, family).
	proxy dataplane.ProxyFlags
	// iptDumps are the iptables dumps given, by the family of their rules.
	iptDumps    map[corev1.IPFamily]*familyDump
	clusterCIDR netip.Prefix
	from        dataplane.Entry
	src         netip.Addr
	// family is the IP family of the iptables proxier whose view this is.
	family corev1.IPFamily
}

// forFamily is the view of the proxier of another IP family: the node's
// addresses and the client's address of that family.
func (v nodeView) forFamily(f corev1.IPFamily, in Input) nodeView {
	v.family = f
	if fd := v.iptDumps[f]; fd != nil {
		v.proxy = fd.flags
		if given := in.Dataplane.ClusterCIDR; !given.IsValid() || given.Addr().Is6() != (f == corev1.IPv6Protocol) {
			v.clusterCIDR = fd.flags.ClusterCIDR
		}
	}
	if f != corev1.IPv6Protocol {
		return v
	}
	var ips []netip.Addr
	for _, ip := range v.ips {
		if ip.Is6() {
			ips = append(ips, ip)
		}
	}
	v.ips = ips
	if v.src.Is4() {
		v.src = netip.MustParseAddr("fd00::fffe")
		if v.from == dataplane.EntryNode && len(ips) > 0 {
			v.src = ips[0]
		}
		if v.from == dataplane.EntryExternal {
			v.src = netip.MustParseAddr("2001:db8::50")
		}
		if in.FromPod != nil {
			for _, p := range in.FromPod.Status.PodIPs {
				if ip, err := netip.ParseAddr(p.IP); err == nil && ip.Is6() {
					v.src = ip
				}
			}
		}
	}
	if v.clusterCIDR.IsValid() && v.clusterCIDR.Addr().Is4() {
		v.clusterCIDR = netip.Prefix{}
	}
	return v
}

func resolveNode(in Input, t *Trace) nodeView {
	d := in.Dataplane
	v := nodeView{name: d.Node, ips: d.NodeIPs, clusterCIDR: d.ClusterCIDR, from: d.From, src: d.FromIP}
	if v.name == "" && in.FromPod != nil {
		// The client's own node is the one whose rules it meets.
		v.name = in.FromPod.Spec.NodeName
		if in.FromPod.Spec.HostNetwork && v.from == dataplane.EntryPod {
			v.from = dataplane.EntryNode
		}
	}
	if v.name == "" && len(t.Nodes) > 0 {
		v.name = t.Nodes[0].Name
	}
	for _, n := range in.Nodes {
		if n.Name == v.name {
			v.zone = n.Labels[corev1.LabelTopologyZone]
			if len(v.ips) == 0 {
				v.ips = nodeAddrs(&n)
			}
		}
	}
	v.iptDumps = iptablesDumps(d)
	for _, f := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		if fd := v.iptDumps[f]; fd != nil {
			v.proxy = fd.flags
			break
		}
	}
	if !v.clusterCIDR.IsValid() {
		v.clusterCIDR = v.proxy.ClusterCIDR
	}
	if v.from == 0 {
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
	case dataplane.EntryNode:
		if len(v.ips) > 0 {
			return v.ips[0]
		}
	case dataplane.EntryExternal:
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

// entryFor places a bare --from IP: a node address enters from the node, an
// address outside the cluster CIDR from outside, anything else from a pod.
func entryFor(v nodeView) dataplane.Entry {
	if !v.src.IsValid() {
		return dataplane.EntryPod
	}
	for _, ip := range v.ips {
		if ip == v.src {
			return dataplane.EntryNode
		}
	}
	if v.clusterCIDR.IsValid() && !v.clusterCIDR.Contains(v.src) {
		return dataplane.EntryExternal
	}
	return dataplane.EntryPod
}
