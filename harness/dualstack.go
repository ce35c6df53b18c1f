package harness

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// IPv6 ranges of a dual-stack cluster (Config.DualStack), unique local
// addresses beside the IPv4 ones: IPv4 stays the primary family, so a
// Service without ipFamilyPolicy is IPv4 as on a single-stack cluster.
// node-N's IPv6 pod CIDR is fd00:10:244:N::/64.
const (
	ServiceCIDR6 = "fd00:10:96::/112"
	ClusterCIDR6 = "fd00:10:244::/56"
)

// linkPrefix6 holds the IPv6 twin of every host link's /30: the IPv4
// address in the last 32 bits, so the IPv6 link is as free of clashes as the
// IPv4 one pickTransferNet chose.
var linkPrefix6 = netip.MustParsePrefix("fd00:5c::/96")

// twin6 is the IPv6 twin of a host link address.
func twin6(a netip.Addr) netip.Addr {
	b := linkPrefix6.Addr().As16()
	v4 := a.As4()
	copy(b[12:], v4[:])
	return netip.AddrFrom16(b)
}

// podCIDR6 is the IPv6 pod CIDR of the i-th node (from 0).
func podCIDR6(i int) netip.Prefix {
	b := netip.MustParsePrefix(ClusterCIDR6).Addr().As16()
	b[7] = byte(i + 1)
	return netip.PrefixFrom(netip.AddrFrom16(b), 64)
}

// podIP6 is the IPv6 address of the pod at IPv4 address ip: the same host
// number (the last octet of the /24) in the node's IPv6 pod CIDR. Zero on a
// single-stack node.
func (n *Node) podIP6(ip netip.Addr) netip.Addr {
	if !n.PodCIDR6.IsValid() {
		return netip.Addr{}
	}
	b := n.PodCIDR6.Addr().As16()
	b[15] = ip.As4()[3]
	return netip.AddrFrom16(b)
}

// ips are the node's addresses, IPv4 first: its InternalIPs, and a host
// network pod's pod IPs.
func (n *Node) ips() []netip.Addr {
	if n.IP6.IsValid() {
		return []netip.Addr{n.IP, n.IP6}
	}
	return []netip.Addr{n.IP}
}

// podCIDRs are the node's pod CIDRs, IPv4 first, as Node.spec.podCIDRs
// lists them.
func (n *Node) podCIDRs() []string {
	if n.PodCIDR6.IsValid() {
		return []string{n.PodCIDR.String(), n.PodCIDR6.String()}
	}
	return []string{n.PodCIDR.String()}
}

// serviceCIDRs is --service-cluster-ip-range: the IPv4 range, then the
// IPv6 one on a dual-stack cluster.
func (cfg Config) serviceCIDRs() string {
	return cfg.ranges(ServiceCIDR, ServiceCIDR6)
}

// clusterCIDRs is kube-proxy's clusterCIDR, one range per family; kube-proxy
// runs a proxier per family and tells pod traffic apart by it.
func (cfg Config) clusterCIDRs() string {
	return cfg.ranges(ClusterCIDR, ClusterCIDR6)
}

func (cfg Config) ranges(v4, v6 string) string {
	if cfg.DualStack {
		return v4 + "," + v6
	}
	return v4
}

// nodadAddr is `ip addr add` of an IPv6 address without duplicate address
// detection: the links are private to the cluster, and a tentative address
// would refuse traffic for a second or two after each pod starts.
func nodadAddr(ns string, a netip.Addr, bits int, dev string) []string {
	return []string{ns, "addr", "add", netip.PrefixFrom(a, bits).String(), "dev", dev, "nodad"}
}

// podIPs are a pod's status.podIPs, IPv4 first.
func podIPs(ips ...netip.Addr) []corev1.PodIP {
	var out []corev1.PodIP
	for _, ip := range ips {
		if ip.IsValid() {
			out = append(out, corev1.PodIP{IP: ip.String()})
		}
	}
	return out
}

// hostIPs are a pod's status.hostIPs: its node's InternalIPs.
func hostIPs(n *Node) []corev1.HostIP {
	var out []corev1.HostIP
	for _, ip := range n.ips() {
		out = append(out, corev1.HostIP{IP: ip.String()})
	}
	return out
}

// route6 is `ip -6 route add ARGS` in namespace ns.
func route6(ns string, args ...string) []string {
	return append([]string{ns, "-6", "route", "add"}, args...)
}
