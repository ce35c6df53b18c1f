package nftables

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
)

// Names of kube-proxy's maps and sets.
const (
	SetClusterIPs          = "cluster-ips"
	SetNodePortIPs         = "nodeport-ips"
	SetHairpinConnections  = "hairpin-connections"
	MapServiceIPs          = "service-ips"
	MapServiceNodePorts    = "service-nodeports"
	MapNoEndpointServices  = "no-endpoint-services"
	MapNoEndpointNodePorts = "no-endpoint-nodeports"
	MapFirewallIPs         = "firewall-ips"
	ChainReject            = "reject-chain"
	masqueradeRuleV137     = "mark set mark or 0x4000"
	masqueradeJumpLegacy   = "jump mark-for-masquerade"
)

// portPlan holds the policy decisions kube-proxy makes for one port.
type portPlan struct {
	name                               PortName
	proto                              string
	port, nodePort                     string
	clusterIP                          netip.Addr
	externalIPs, lbIPs                 []netip.Addr
	sourceRanges                       []string
	affinity                           bool
	timeout                            int32
	cluster, local, reachable          []*endpoints.Endpoint
	hasEndpoints, hasInternal, hasExt  bool
	internalLocal, externalLocal       bool
	usesCluster, usesLocal, usesExtern bool
}

func expectPort(svc *corev1.Service, sp corev1.ServicePort, cip netip.Addr, eps []*discoveryv1.EndpointSlice, opts ExpectOptions) (ExpectedPort, error) {
	pl := plan(svc, sp, cip, endpoints.ForPort(eps, svc, sp, opts.Family == knftables.IPv6Family, opts.NodeName), opts)
	out := ExpectedPort{Name: pl.name, Endpoints: addrPorts(pl.cluster), LocalEndpoints: addrPorts(pl.local)}
	out.Elements = pl.elements(opts)
	out.Chains = pl.chains(opts)
	out.Sets = pl.affinitySets(opts)
	return out, nil
}

func plan(svc *corev1.Service, sp corev1.ServicePort, cip netip.Addr, all []*endpoints.Endpoint, opts ExpectOptions) *portPlan {
	proto := strings.ToLower(string(protocolOf(sp)))
	pl := &portPlan{
		name:      PortName{Namespace: svc.Namespace, Name: svc.Name, Protocol: proto, Port: sp.Name},
		proto:     proto,
		port:      portString(sp.Port),
		clusterIP: cip,
		affinity:  svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP,
		timeout:   10800,
	}
	if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		pl.timeout = *c.ClientIP.TimeoutSeconds
	}
	if sp.NodePort != 0 && (svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer) {
		pl.nodePort = portString(sp.NodePort)
	}
	for _, s := range svc.Spec.ExternalIPs {
		if a, ok := familyIP([]string{s}, "", opts.Family); ok {
			pl.externalIPs = append(pl.externalIPs, a)
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			proxy := ing.IPMode == nil || *ing.IPMode == corev1.LoadBalancerIPModeVIP
			if a, ok := familyIP([]string{ing.IP}, "", opts.Family); ok && proxy {
				pl.lbIPs = append(pl.lbIPs, a)
			}
		}
		for _, r := range svc.Spec.LoadBalancerSourceRanges {
			if p, err := netip.ParsePrefix(strings.TrimSpace(r)); err == nil && p.Addr().Is4() == (opts.Family != knftables.IPv6Family) {
				pl.sourceRanges = append(pl.sourceRanges, p.Masked().String())
				if p.Bits() == 0 {
					// A /0 range allows everyone: kube-proxy writes no
					// firewall at all (IsZeroCIDR in serviceport.go).
					pl.sourceRanges = nil
					break
				}
			}
		}
	}
	pl.internalLocal = svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	// extAccessible is the port's (ServicePort.ExternallyAccessible: this
	// family's addresses); externalLocal the Service's
	// (apiservice.ExternalPolicyLocal, which counts a ClusterIP Service with
	// external IPs too).
	extAccessible := pl.nodePort != "" || len(pl.lbIPs) > 0 || len(pl.externalIPs) > 0
	svcExternal := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
	pl.externalLocal = svcExternal && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	pl.categorize(all, extAccessible, opts)
	return pl
}

// affinitySets are the sets that remember, per endpoint, the clients
// pinned to it (ClientIP affinity), for stickyMaxAgeSeconds.
func (pl *portPlan) affinitySets(opts ExpectOptions) []knftables.Set {
	if !pl.affinity {
		return nil
	}
	typ := "ipv4_addr"
	if opts.Family == knftables.IPv6Family {
		typ = "ipv6_addr"
	}
	var out []knftables.Set
	for _, e := range pl.reachable {
		out = append(out, knftables.Set{Name: AffinitySet(pl.name, e.AddrPort), Type: typ,
			Flags: []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag}, Timeout: ptr.To(time.Duration(pl.timeout) * time.Second)})
	}
	return out
}

// categorize sorts the port's endpoints as kube-proxy's
// CategorizeEndpoints does and derives the chains and map entries it needs.
func (pl *portPlan) categorize(all []*endpoints.Endpoint, extAccessible bool, opts ExpectOptions) {
	usesClusterEps := !pl.internalLocal || extAccessible
	usesLocalEps := pl.internalLocal || (pl.externalLocal && extAccessible)
	sets := endpoints.Categorize(all, endpoints.Policy{
		UsesCluster: usesClusterEps, UsesLocal: usesLocalEps, Node: opts.NodeName, Zone: opts.Zone,
	})
	pl.cluster, pl.local, pl.reachable, pl.hasEndpoints = sets.Cluster, sets.Local, sets.Reachable, sets.Any
	pl.usesCluster = len(pl.cluster) > 0 && usesClusterEps
	pl.usesLocal = len(pl.local) > 0 && usesLocalEps
	pl.hasInternal = pl.hasEndpoints && (!pl.internalLocal || len(pl.local) > 0)
	pl.hasExt = pl.hasEndpoints && (!pl.externalLocal || len(pl.local) > 0)
	pl.usesExtern = pl.hasEndpoints && extAccessible
}

// elements lists every set/map element kube-proxy writes for the port.
func (pl *portPlan) elements(opts ExpectOptions) []knftables.Element {
	var out []knftables.Element
	vmap := func(m string, key []string, verdict string, comment bool) {
		el := knftables.Element{Map: m, Key: key, Value: []string{verdict}}
		if comment {
			c := pl.name.Display()
			el.Comment = &c
		}
		out = append(out, el)
	}
	svcChain, extChain := ServiceChain(pl.name), ExternalChain(pl.name)
	internalChain := svcChain
	if pl.internalLocal {
		internalChain = LocalChain(pl.name)
	}
	internalVerdict, externalVerdict := "drop", "drop"
	if !pl.hasEndpoints {
		internalVerdict, externalVerdict = "goto "+ChainReject, "goto "+ChainReject
	}
	triple := func(a netip.Addr) []string { return []string{a.String(), pl.proto, pl.port} }

	out = append(out, knftables.Element{Set: SetClusterIPs, Key: []string{pl.clusterIP.String()}})
	if pl.hasInternal {
		vmap(MapServiceIPs, triple(pl.clusterIP), "goto "+internalChain, false)
	} else {
		vmap(MapNoEndpointServices, triple(pl.clusterIP), internalVerdict, true)
	}
	for _, ip := range pl.externalIPs {
		if pl.hasEndpoints {
			vmap(MapServiceIPs, triple(ip), "goto "+extChain, false)
		}
		if !pl.hasExt {
			vmap(MapNoEndpointServices, triple(ip), externalVerdict, true)
		}
	}
	for _, ip := range pl.lbIPs {
		if pl.hasEndpoints {
			vmap(MapServiceIPs, triple(ip), "goto "+extChain, false)
		}
		if len(pl.sourceRanges) > 0 {
			vmap(MapFirewallIPs, triple(ip), "goto "+FirewallChain(pl.name), false)
		}
	}
	if !pl.hasExt {
		for _, ip := range pl.lbIPs {
			vmap(MapNoEndpointServices, triple(ip), externalVerdict, true)
		}
	}
	if pl.nodePort != "" {
		if pl.hasEndpoints {
			vmap(MapServiceNodePorts, []string{pl.proto, pl.nodePort}, "goto "+extChain, false)
		}
		if !pl.hasExt {
			vmap(MapNoEndpointNodePorts, []string{pl.proto, pl.nodePort}, externalVerdict, true)
		}
	}
	if opts.Layout == LayoutV137 {
		for _, e := range pl.reachable {
			if e.Local {
				ip := e.AddrPort.Addr().String()
				out = append(out, knftables.Element{Set: SetHairpinConnections,
					Key: []string{ip, ip, pl.proto, fmt.Sprint(e.AddrPort.Port())}})
			}
		}
	}
	return out
}
