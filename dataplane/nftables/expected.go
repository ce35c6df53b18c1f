package nftables

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// Layout selects which release's rule shapes Expected produces.
type Layout string

const (
	// LayoutV137 is kube-proxy v1.37: without ClientIP affinity the
	// service chain DNATs directly ("dnat to ip:port" for one endpoint, a
	// numgen map for several) and hairpin traffic goes through the
	// hairpin-connections set.
	LayoutV137 Layout = "v1.37"
	// LayoutLegacy is v1.29 to v1.3x: every endpoint has an endpoint chain
	// and masquerading goes through the mark-for-masquerade chain.
	LayoutLegacy Layout = "legacy"
)

// ExpectOptions describe the node kube-proxy runs on.
type ExpectOptions struct {
	Family      knftables.Family // knftables.IPv4Family (default) or IPv6Family
	NodeName    string           // decides which endpoints are local
	ClusterCIDR string           // pod CIDR for the "short-circuit pod traffic" rules; optional
	Layout      Layout           // default LayoutV137
}

// ExpectedChain is a chain with the rules kube-proxy writes into it, in the
// form kube-proxy sends them to nft (nft may print them differently).
type ExpectedChain struct {
	Name  string
	Rules []string
}

// ExpectedPort is what kube-proxy writes for one port of a Service.
// Endpoints are the cluster-policy endpoints and LocalEndpoints the local
// ones, both in kube-proxy's order (sorted by "ip:port" text), which is the
// order of the numgen map.
type ExpectedPort struct {
	Name           PortName
	Endpoints      []netip.AddrPort
	LocalEndpoints []netip.AddrPort
	Elements       []knftables.Element
	Chains         []ExpectedChain
}

// ExpectedService is what kube-proxy writes for a Service in one family.
// Ports is empty for headless and ExternalName services.
type ExpectedService struct {
	Namespace, Name string
	Family          knftables.Family
	ClusterIP       netip.Addr
	Ports           []ExpectedPort
}

// Expected computes the map/set elements and chains kube-proxy writes for
// svc and its EndpointSlices. Topology hints are not applied: all ready
// endpoints are used, as kube-proxy does when hints are absent.
func Expected(svc *corev1.Service, eps []*discoveryv1.EndpointSlice, opts ExpectOptions) (*ExpectedService, error) {
	if svc == nil {
		return nil, fmt.Errorf("expected rules: no service given")
	}
	if opts.Family == "" {
		opts.Family = knftables.IPv4Family
	}
	if opts.Layout == "" {
		opts.Layout = LayoutV137
	}
	out := &ExpectedService{Namespace: svc.Namespace, Name: svc.Name, Family: opts.Family}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return out, nil
	}
	cip, ok := familyIP(svc.Spec.ClusterIPs, svc.Spec.ClusterIP, opts.Family)
	if !ok {
		return out, nil // headless, or no ClusterIP in this family
	}
	out.ClusterIP = cip
	for _, sp := range svc.Spec.Ports {
		p, err := expectPort(svc, sp, cip, eps, opts)
		if err != nil {
			return nil, fmt.Errorf("service %s/%s port %q: %w", svc.Namespace, svc.Name, sp.Name, err)
		}
		out.Ports = append(out.Ports, p)
	}
	return out, nil
}

func familyIP(ips []string, fallback string, fam knftables.Family) (netip.Addr, bool) {
	if len(ips) == 0 && fallback != "" {
		ips = []string{fallback}
	}
	for _, s := range ips {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err == nil && a.Is4() == (fam == knftables.IPv4Family) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// endpointInfo is one deduplicated endpoint of a service port.
type endpointInfo struct {
	ap                        netip.AddrPort
	ready, serving, terminate bool
	local                     bool
}

// portEndpoints collects the endpoints of one service port from the slices
// the way kube-proxy's EndpointSliceCache does, sorted by "ip:port" text.
func portEndpoints(svc *corev1.Service, sp corev1.ServicePort, eps []*discoveryv1.EndpointSlice, opts ExpectOptions) []endpointInfo {
	want := discoveryv1.AddressTypeIPv4
	if opts.Family == knftables.IPv6Family {
		want = discoveryv1.AddressTypeIPv6
	}
	byKey := map[string]endpointInfo{}
	for _, es := range eps {
		if es == nil || es.AddressType != want || es.Namespace != svc.Namespace {
			continue
		}
		if n, ok := es.Labels[discoveryv1.LabelServiceName]; !ok || n != svc.Name {
			continue
		}
		for _, p := range es.Ports {
			if p.Name == nil || *p.Name != sp.Name || p.Port == nil || *p.Port == 0 {
				continue
			}
			if p.Protocol != nil && *p.Protocol != protocolOf(sp) {
				continue
			}
			for _, e := range es.Endpoints {
				addEndpoint(byKey, e, uint16(*p.Port), opts.NodeName)
			}
		}
	}
	out := make([]endpointInfo, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b endpointInfo) int { return strings.Compare(a.ap.String(), b.ap.String()) })
	return out
}

func addEndpoint(byKey map[string]endpointInfo, e discoveryv1.Endpoint, port uint16, node string) {
	if len(e.Addresses) == 0 {
		return
	}
	a, err := netip.ParseAddr(e.Addresses[0])
	if err != nil {
		return
	}
	c := e.Conditions
	info := endpointInfo{
		ap:        netip.AddrPortFrom(a.Unmap(), port),
		ready:     c.Ready == nil || *c.Ready,
		serving:   c.Serving == nil || *c.Serving,
		terminate: c.Terminating != nil && *c.Terminating,
		local:     node != "" && e.NodeName != nil && *e.NodeName == node,
	}
	// A reused IP may appear twice; the non-terminating endpoint wins.
	if _, dup := byKey[info.ap.String()]; !dup || !info.terminate {
		byKey[info.ap.String()] = info
	}
}

func protocolOf(sp corev1.ServicePort) corev1.Protocol {
	if sp.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return sp.Protocol
}

func pick(eps []endpointInfo, keep func(endpointInfo) bool) []endpointInfo {
	var out []endpointInfo
	for _, e := range eps {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

func addrPorts(eps []endpointInfo) []netip.AddrPort {
	out := make([]netip.AddrPort, len(eps))
	for i, e := range eps {
		out[i] = e.ap
	}
	return out
}

func portString(p int32) string { return strconv.Itoa(int(p)) }
