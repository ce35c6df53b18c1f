package expected

import (
	"fmt"
	"net"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// LocalMode is kube-proxy's --detect-local-mode: how it tells traffic from
// local pods apart from other traffic.
type LocalMode string

// The local-traffic detectors of kube-proxy's iptables mode.
const (
	LocalNone                LocalMode = ""
	LocalClusterCIDR         LocalMode = "ClusterCIDR"
	LocalBridgeInterface     LocalMode = "BridgeInterface"
	LocalInterfaceNamePrefix LocalMode = "InterfaceNamePrefix"
)

// Node describes the node and the kube-proxy settings that shape its rules.
// The zero value of every field except Name matches kube-proxy's defaults
// for an IPv4 proxier without a local-traffic detector.
type Node struct {
	// Name is the node name; endpoints whose nodeName equals it are local.
	Name string
	// Family selects the proxier: IPv4 (default when empty) or IPv6. A
	// dual-stack node runs one proxier per family; call Generate per family.
	Family corev1.IPFamily
	// IPs are the node's addresses, the primary one of each family first.
	// The primary address decides whether a loadBalancerSourceRanges entry
	// covers the node; all of them (plus 127.0.0.1 and ::1, which every node
	// has on lo) are the interface addresses nodePortAddresses selects from.
	IPs []string
	// Zone is the node's topology.kubernetes.io/zone label, used with
	// EndpointSlice zone hints.
	Zone string

	// LocalMode and LocalValue configure the local-traffic detector: a
	// cluster CIDR such as 10.244.0.0/16, a bridge interface name, or an
	// interface name prefix. LocalNone disables it.
	LocalMode  LocalMode
	LocalValue string

	// MasqueradeBit is --iptables-masquerade-bit; nil means 14.
	MasqueradeBit *int
	// MasqueradeAll is --masquerade-all.
	MasqueradeAll bool
	// NoRandomFully drops "--random-fully" from the MASQUERADE rule. v1.37
	// always writes it; older releases left it out when iptables lacked it.
	NoRandomFully bool
	// NodePortAddresses is --nodeport-addresses: CIDRs and the keywords
	// "primary", "localhost" and "all". Empty means all addresses.
	NodePortAddresses []string
	// LocalhostNodePorts is --iptables-localhost-nodeports; nil means true.
	LocalhostNodePorts *bool
	// NFAcct is true when kube-proxy could create its nfacct counters
	// (kernel module nfnetlink_acct); they add "-m nfacct" matches to the
	// INVALID drop rule and to localhost NodePort rules.
	NFAcct bool
	// ConntrackTCPBeLiberal is true when the sysctl
	// net.netfilter.nf_conntrack_tcp_be_liberal is non-zero; kube-proxy then
	// skips the rule dropping INVALID packets.
	ConntrackTCPBeLiberal bool
}

// nodeConfig is Node validated and resolved for one IP family.
type nodeConfig struct {
	name          string
	family        corev1.IPFamily
	ipv6          bool
	nodeIP        net.IP
	zone          string
	ifLocal       []string
	ifNotLocal    []string
	mark          string
	masqueradeAll bool
	randomFully   bool
	matchAll      bool
	nodePortIPs   []net.IP
	localhostNP   bool
	nfacct        bool
	tcpLiberal    bool
}

func (n Node) resolve() (*nodeConfig, error) {
	c := &nodeConfig{
		name:          n.Name,
		family:        n.Family,
		zone:          n.Zone,
		masqueradeAll: n.MasqueradeAll,
		randomFully:   !n.NoRandomFully,
		nfacct:        n.NFAcct,
		tcpLiberal:    n.ConntrackTCPBeLiberal,
	}
	switch n.Family {
	case "", corev1.IPv4Protocol:
		c.family = corev1.IPv4Protocol
	case corev1.IPv6Protocol:
		c.ipv6 = true
	default:
		return nil, fmt.Errorf("node %q: unknown IP family %q; use IPv4 or IPv6", n.Name, n.Family)
	}
	bit := 14
	if n.MasqueradeBit != nil {
		bit = *n.MasqueradeBit
	}
	if bit < 0 || bit > 31 {
		return nil, fmt.Errorf("node %q: masquerade bit %d out of range 0..31", n.Name, bit)
	}
	c.mark = fmt.Sprintf("%#08x", 1<<uint(bit))
	if err := c.resolveDetector(n); err != nil {
		return nil, err
	}
	ifaceIPs, err := c.resolveIPs(n)
	if err != nil {
		return nil, err
	}
	return c, c.resolveNodePorts(n, ifaceIPs)
}

func (c *nodeConfig) resolveDetector(n Node) error {
	v := n.LocalValue
	switch n.LocalMode {
	case LocalNone:
		return nil
	case LocalClusterCIDR:
		cidr, err := parseCIDRSloppy(v)
		if err != nil {
			return fmt.Errorf("node %q: local-traffic cluster CIDR %q: %w", n.Name, v, err)
		}
		if familyOfCIDR(cidr) != c.family {
			// kube-proxy runs without a detector for a family that has
			// no cluster CIDR.
			return nil
		}
		c.ifLocal, c.ifNotLocal = []string{"-s", v}, []string{"!", "-s", v}
	case LocalBridgeInterface:
		c.ifLocal, c.ifNotLocal = []string{"-i", v}, []string{"!", "-i", v}
	case LocalInterfaceNamePrefix:
		c.ifLocal, c.ifNotLocal = []string{"-i", v + "+"}, []string{"!", "-i", v + "+"}
	default:
		return fmt.Errorf("node %q: unknown local-traffic mode %q; use ClusterCIDR, BridgeInterface or InterfaceNamePrefix", n.Name, n.LocalMode)
	}
	if v == "" {
		return fmt.Errorf("node %q: local-traffic mode %s needs a value", n.Name, n.LocalMode)
	}
	return nil
}

// resolveIPs picks the primary node IP of the family (kube-proxy falls back
// to loopback without one) and returns every interface address.
func (c *nodeConfig) resolveIPs(n Node) ([]net.IP, error) {
	var all []net.IP
	for _, s := range n.IPs {
		ip := parseIPSloppy(s)
		if ip == nil {
			return nil, fmt.Errorf("node %q: invalid node IP %q", n.Name, s)
		}
		if c.nodeIP == nil && familyOf(ip) == c.family {
			c.nodeIP = ip
		}
		all = append(all, ip)
	}
	if c.nodeIP == nil {
		c.nodeIP = net.IPv4(127, 0, 0, 1)
		if c.ipv6 {
			c.nodeIP = net.IPv6loopback
		}
	}
	return append(all, net.IPv4(127, 0, 0, 1), net.IPv6loopback), nil
}

// resolveNodePorts follows proxyutil.NewNodePortAddresses and GetNodeIPs.
func (c *nodeConfig) resolveNodePorts(n Node, ifaceIPs []net.IP) error {
	var cidrs []*net.IPNet
	for _, s := range c.expandKeywords(n) {
		cidr, err := parseCIDRSloppy(s)
		if err != nil {
			return fmt.Errorf("node %q: nodePortAddresses entry %q is not a CIDR or keyword: %w", n.Name, s, err)
		}
		if familyOfCIDR(cidr) == c.family {
			cidrs = append(cidrs, cidr)
		}
	}
	if len(cidrs) == 0 {
		bits := 32
		if c.ipv6 {
			bits = 128
		}
		cidrs = []*net.IPNet{{IP: make(net.IP, bits/8), Mask: net.CIDRMask(0, bits)}}
	}
	containsV4Loopback := false
	for _, cidr := range cidrs {
		if !c.ipv6 && (cidr.IP.IsLoopback() || cidr.Contains(net.IPv4(127, 0, 0, 0))) {
			containsV4Loopback = true
		}
		if ones, _ := cidr.Mask.Size(); ones == 0 {
			c.matchAll = true
			break
		}
	}
	c.localhostNP = containsV4Loopback && (n.LocalhostNodePorts == nil || *n.LocalhostNodePorts)
	if !c.matchAll {
		c.nodePortIPs = matchIPs(cidrs, ifaceIPs)
	}
	return nil
}

func (c *nodeConfig) expandKeywords(n Node) []string {
	var out []string
	for _, a := range n.NodePortAddresses {
		switch a {
		case "primary":
			out = append(out, primaryCIDRs(n.IPs)...)
		case "localhost":
			out = append(out, "127.0.0.0/8", "::1/128")
		case "all":
			out = append(out, "0.0.0.0/0", "::/0")
		default:
			out = append(out, a)
		}
	}
	return out
}

// primaryCIDRs expands the "primary" keyword: the first non-loopback node
// address of each family as a host CIDR.
func primaryCIDRs(ips []string) []string {
	var out []string
	var v4, v6 bool
	for _, s := range ips {
		ip := parseIPSloppy(s)
		switch {
		case ip == nil || ip.IsLoopback():
		case ip.To4() != nil && !v4:
			v4 = true
			out = append(out, ip.String()+"/32")
		case ip.To4() == nil && !v6:
			v6 = true
			out = append(out, ip.String()+"/128")
		}
	}
	return out
}

// matchIPs returns the distinct addresses inside cidrs. kube-proxy collects
// them in a map, so its order is random; sorting keeps output stable.
func matchIPs(cidrs []*net.IPNet, ips []net.IP) []net.IP {
	seen := map[string]net.IP{}
	for _, cidr := range cidrs {
		for _, ip := range ips {
			if cidr.Contains(ip) {
				seen[ip.String()] = ip
			}
		}
	}
	out := make([]net.IP, 0, len(seen))
	for _, ip := range seen {
		out = append(out, ip)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}
