package nftables

import (
	"net/netip"
	"strings"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// Names of kube-proxy's own chains (pkg/proxy/nftables/proxier.go).
const (
	chainFilterPreroutingPreDNAT = "filter-prerouting-pre-dnat"
	chainFilterOutputPreDNAT     = "filter-output-pre-dnat"
	chainFilterInput             = "filter-input"
	chainFilterForward           = "filter-forward"
	chainFilterOutput            = "filter-output"
	chainNATPrerouting           = "nat-prerouting"
	chainNATOutput               = "nat-output"
	chainNATPostrouting          = "nat-postrouting"
	chainServices                = "services"
	chainMasquerading            = "masquerading"
	chainClusterIPsCheck         = "cluster-ips-check"
	chainNodePortEndpointsCheck  = "nodeport-endpoints-check"
	chainServiceEndpointsCheck   = "service-endpoints-check"
	chainFirewallCheck           = "firewall-check"
	// masqueradeMark is fmt.Sprintf("%#08x", 1<<14), kube-proxy's default.
	masqueradeMark = "0x004000"
)

// baseChains are kube-proxy v1.37's base chains, in its order.
var baseChains = []struct {
	name string
	typ  knftables.BaseChainType
	hook knftables.BaseChainHook
	prio knftables.BaseChainPriority
}{
	{chainFilterPreroutingPreDNAT, knftables.FilterType, knftables.PreroutingHook, knftables.DNATPriority + "-10"},
	{chainFilterOutputPreDNAT, knftables.FilterType, knftables.OutputHook, knftables.DNATPriority + "-10"},
	{chainFilterInput, knftables.FilterType, knftables.InputHook, knftables.FilterPriority},
	{chainFilterForward, knftables.FilterType, knftables.ForwardHook, knftables.FilterPriority},
	{chainFilterOutput, knftables.FilterType, knftables.OutputHook, knftables.FilterPriority},
	{chainNATPrerouting, knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority},
	{chainNATOutput, knftables.NATType, knftables.OutputHook, knftables.DNATPriority},
	{chainNATPostrouting, knftables.NATType, knftables.PostroutingHook, knftables.SNATPriority},
}

// jumpChains are the regular chains the base chains jump to, in
// kube-proxy's order.
var jumpChains = []struct{ dst, src, match string }{
	{chainNodePortEndpointsCheck, chainFilterInput, "ct state new"},
	{chainServiceEndpointsCheck, chainFilterInput, "ct state new"},
	{chainServiceEndpointsCheck, chainFilterForward, "ct state new"},
	{chainServiceEndpointsCheck, chainFilterOutput, "ct state new"},
	{chainFirewallCheck, chainFilterPreroutingPreDNAT, "ct state new"},
	{chainFirewallCheck, chainFilterOutputPreDNAT, "ct state new"},
	{chainServices, chainNATOutput, ""},
	{chainServices, chainNATPrerouting, ""},
	{chainMasquerading, chainNATPostrouting, ""},
	{chainClusterIPsCheck, chainFilterForward, "ct state new"},
	{chainClusterIPsCheck, chainFilterOutput, "ct state new"},
}

// Base is what kube-proxy's table holds before any Service: what
// setupNFTables writes, which depends on the node and kube-proxy's flags.
type Base struct {
	Family knftables.Family
	// NodePortIPs fill the nodeport-ips set: the node's addresses of the
	// family (--nodeport-addresses "primary", the default). Without one,
	// "primary" names no address of the family and kube-proxy accepts
	// NodePorts on every local address but loopback, with no set.
	NodePortIPs []netip.Addr
	// Narrowed says --nodeport-addresses named CIDRs other than the whole
	// family: NodePorts are accepted on NodePortIPs alone, even none.
	Narrowed bool
	// ServiceCIDRs are the cluster's ServiceCIDRs of the family; without
	// them kube-proxy writes no rule dropping unallocated ClusterIPs.
	ServiceCIDRs []netip.Prefix
	// NotLocal is the local-traffic detector's match for traffic not from
	// a pod ("ip saddr != 10.244.0.0/16"); empty when none is configured.
	NotLocal      string
	MasqueradeAll bool
}

// base is the table layout kube-proxy writes on n.
func base(family knftables.Family, n dataplane.Node, serviceCIDRs []netip.Prefix) Base {
	b := Base{Family: family, MasqueradeAll: n.Flags.MasqueradeAll}
	ipX := "ip"
	if family == knftables.IPv6Family {
		ipX = "ip6"
	}
	v4 := family == knftables.IPv4Family
	nodePorts := n.IPs
	if np := n.Flags.NodePortAddresses; np != nil {
		// --nodeport-addresses CIDRs, resolved to the node's addresses
		// they hold (a prefix of the whole family accepts everywhere).
		nodePorts, b.Narrowed = nil, true
		for _, p := range np {
			if p.Addr().Is4() != v4 {
				continue
			}
			if p.Bits() == 0 {
				nodePorts, b.Narrowed = nil, false
				break
			}
			nodePorts = append(nodePorts, p.Addr())
		}
	}
	for _, ip := range nodePorts {
		if ip.Is4() == v4 && !ip.IsLoopback() {
			b.NodePortIPs = append(b.NodePortIPs, ip)
		}
	}
	for _, c := range serviceCIDRs {
		if c.Addr().Is4() == v4 {
			b.ServiceCIDRs = append(b.ServiceCIDRs, c)
		}
	}
	switch f := n.Flags; {
	case f.ClusterCIDR.IsValid() && f.ClusterCIDR.Addr().Is4() != v4:
		// A cluster CIDR of the other family: kube-proxy detects no local
		// traffic in this one.
	case f.ClusterCIDR.IsValid():
		b.NotLocal = ipX + " saddr != " + f.ClusterCIDR.String()
	case f.InterfacePrefix != "":
		b.NotLocal = "iifname != " + f.InterfacePrefix + "*"
	case f.Bridge != "":
		b.NotLocal = "iifname != " + f.Bridge
	}
	return b
}

// Objects are setupNFTables' objects for b, in its order. The
// localhost-NodePort objects of the alpha KubeProxyNFTablesLocalhostNodePorts
// gate, off by default, are not written.
func (b Base) Objects() []knftables.Object {
	ipX, addrType, notLocalhost := "ip", "ipv4_addr", "ip daddr != 127.0.0.0/8"
	if b.Family == knftables.IPv6Family {
		ipX, addrType, notLocalhost = "ip6", "ipv6_addr", "ip6 daddr != ::1"
	}
	// nodePorts matches the destinations NodePorts are accepted on.
	nodePorts := ipX + " daddr @" + SetNodePortIPs
	everywhere := len(b.NodePortIPs) == 0 && !b.Narrowed
	if everywhere {
		nodePorts = notLocalhost
	}
	o := []knftables.Object{&knftables.Table{Comment: ptr.To("rules for kube-proxy")}}
	for _, bc := range baseChains {
		o = append(o, &knftables.Chain{Name: bc.name, Type: ptr.To(bc.typ), Hook: ptr.To(bc.hook), Priority: ptr.To(bc.prio)})
	}
	made := map[string]bool{}
	chain := func(name string) {
		if !made[name] {
			made[name] = true
			o = append(o, &knftables.Chain{Name: name})
		}
	}
	rule := func(chain, comment string, parts ...string) {
		r := &knftables.Rule{Chain: chain, Rule: strings.TrimSpace(strings.Join(parts, " "))}
		if comment != "" {
			r.Comment = ptr.To(comment)
		}
		o = append(o, r)
	}
	for _, j := range jumpChains {
		chain(j.dst)
		rule(j.src, "", j.match, "jump", j.dst)
	}
	chain(chainServices)
	chain(chainClusterIPsCheck)
	chain(chainMasquerading)
	o = append(o, &knftables.Set{Name: SetHairpinConnections, Type: addrType + " . " + addrType + " . inet_proto . inet_service",
		Comment: ptr.To("service hairpin connections")})
	rule(chainMasquerading, "", "mark and", masqueradeMark, "!= 0 mark set mark xor", masqueradeMark, "masquerade fully-random")
	rule(chainMasquerading, "", "ct status dnat", ipX, "saddr .", ipX, "daddr . meta l4proto . th dport @"+SetHairpinConnections, "masquerade fully-random")
	o = append(o, &knftables.Set{Name: SetClusterIPs, Type: addrType, Comment: ptr.To("Active ClusterIPs")})
	rule(chainClusterIPsCheck, "Reject traffic to invalid ports of ClusterIPs", ipX, "daddr @"+SetClusterIPs, "reject")
	if len(b.ServiceCIDRs) > 0 {
		cidrs := make([]string, len(b.ServiceCIDRs))
		for i, c := range b.ServiceCIDRs {
			cidrs[i] = c.String()
		}
		rule(chainClusterIPsCheck, "Drop traffic to unallocated ClusterIPs", ipX, "daddr {", strings.Join(cidrs, ","), "} drop")
	}
	if !everywhere {
		o = append(o, &knftables.Set{Name: SetNodePortIPs, Type: addrType, Comment: ptr.To("IPs that accept NodePort traffic")})
	}
	for _, ip := range b.NodePortIPs {
		if !ip.IsLoopback() {
			o = append(o, &knftables.Element{Set: SetNodePortIPs, Key: []string{ip.String()}})
		}
	}
	vmap := func(name, key, comment string) {
		o = append(o, &knftables.Map{Name: name, Type: key + " : verdict", Comment: ptr.To(comment)})
	}
	triple := addrType + " . inet_proto . inet_service"
	vmap(MapNoEndpointServices, triple, "vmap to drop or reject packets to services with no endpoints")
	vmap(MapNoEndpointNodePorts, "inet_proto . inet_service", "vmap to drop or reject packets to service nodeports with no endpoints")
	o = append(o, &knftables.Chain{Name: ChainReject, Comment: ptr.To("helper for @no-endpoint-services / @no-endpoint-nodeports")})
	rule(ChainReject, "", "reject")
	rule(chainServiceEndpointsCheck, "", ipX, "daddr . meta l4proto . th dport vmap @"+MapNoEndpointServices)
	rule(chainNodePortEndpointsCheck, "", nodePorts, "meta l4proto . th dport vmap @"+MapNoEndpointNodePorts)
	vmap(MapFirewallIPs, triple, "destinations that are subject to LoadBalancerSourceRanges")
	chain(chainFirewallCheck)
	rule(chainFirewallCheck, "", ipX, "daddr . meta l4proto . th dport vmap @"+MapFirewallIPs)
	vmap(MapServiceIPs, triple, "ClusterIP, ExternalIP and LoadBalancer IP traffic")
	vmap(MapServiceNodePorts, "inet_proto . inet_service", "NodePort traffic")
	masq := "mark set mark or " + masqueradeMark
	switch {
	case b.MasqueradeAll:
		rule(chainServices, "masquerade all clusterIP traffic", ipX, "daddr @"+SetClusterIPs, masq)
	case b.NotLocal != "":
		rule(chainServices, "masquerade clusterIP traffic from outside cluster", ipX, "daddr @"+SetClusterIPs, b.NotLocal, masq)
	}
	rule(chainServices, "", ipX, "daddr . meta l4proto . th dport vmap @"+MapServiceIPs)
	if everywhere {
		nodePorts = "fib daddr type local " + notLocalhost
	}
	rule(chainServices, "", nodePorts, "meta l4proto . th dport vmap @"+MapServiceNodePorts)
	return o
}
