package expected

import (
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpointInfo is kube-proxy's BaseEndpointInfo plus its chain name.
type endpointInfo struct {
	ip, addr, chain               string
	port                          int
	local, ready, serving, termin bool
	zoneHints, nodeHints          map[string]bool
}

// attachEndpoints fills in every service port's endpoints from the
// EndpointSlices, following EndpointSliceCache: slices of the wrong address
// type, ports without a name or number and endpoints without addresses are
// ignored; an address seen twice keeps the non-terminating copy; the result
// is sorted by "ip:port" as a string.
func attachEndpoints(c *nodeConfig, byKey map[portKey]*ServicePort, eps []*discoveryv1.EndpointSlice) {
	want := discoveryv1.AddressTypeIPv4
	if c.ipv6 {
		want = discoveryv1.AddressTypeIPv6
	}
	// kube-proxy merges a service's slices from a map keyed by slice name;
	// walking them by name makes duplicate resolution deterministic.
	sorted := make([]*discoveryv1.EndpointSlice, 0, len(eps))
	for _, s := range eps {
		if s != nil && s.AddressType == want && s.Name != "" && s.Namespace != "" &&
			s.Labels[discoveryv1.LabelServiceName] != "" {
			sorted = append(sorted, s)
		}
	}
	slices.SortFunc(sorted, func(a, b *discoveryv1.EndpointSlice) int {
		return cmpStrings([]string{a.Namespace, a.Labels[discoveryv1.LabelServiceName], a.Name},
			[]string{b.Namespace, b.Labels[discoveryv1.LabelServiceName], b.Name})
	})
	sets := map[*ServicePort]map[string]*endpointInfo{}
	for _, s := range sorted {
		svcName := s.Labels[discoveryv1.LabelServiceName]
		for _, p := range s.Ports {
			if p.Name == nil || p.Port == nil || *p.Port == 0 {
				continue
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			sp := byKey[portKey{s.Namespace, svcName, *p.Name, proto}]
			if sp == nil {
				continue
			}
			if sets[sp] == nil {
				sets[sp] = map[string]*endpointInfo{}
			}
			addEndpoints(c, sp, int(*p.Port), sets[sp], s.Endpoints)
		}
	}
	for sp, set := range sets {
		sp.all = make([]*endpointInfo, 0, len(set))
		for _, ep := range set {
			sp.all = append(sp.all, ep)
		}
		slices.SortFunc(sp.all, func(a, b *endpointInfo) int { return strings.Compare(a.addr, b.addr) })
	}
}

func addEndpoints(c *nodeConfig, sp *ServicePort, port int, set map[string]*endpointInfo, eps []discoveryv1.Endpoint) {
	for i := range eps {
		e := &eps[i]
		if len(e.Addresses) == 0 {
			continue
		}
		ip := parseIPSloppy(e.Addresses[0])
		if ip == nil {
			continue
		}
		cond := e.Conditions
		info := &endpointInfo{
			ip:      ip.String(),
			port:    port,
			local:   e.NodeName != nil && c.name != "" && *e.NodeName == c.name,
			ready:   cond.Ready == nil || *cond.Ready,
			serving: cond.Serving == nil || *cond.Serving,
			termin:  cond.Terminating != nil && *cond.Terminating,
		}
		info.addr = net.JoinHostPort(info.ip, strconv.Itoa(port))
		info.chain = EndpointChain(sp.ID, sp.Protocol, info.addr)
		if h := e.Hints; h != nil {
			info.zoneHints = hintSet(h.ForZones, func(z discoveryv1.ForZone) string { return z.Name })
			info.nodeHints = hintSet(h.ForNodes, func(n discoveryv1.ForNode) string { return n.Name })
		}
		if _, exists := set[info.addr]; !exists || !info.termin {
			set[info.addr] = info
		}
	}
}

func hintSet[T any](list []T, name func(T) string) map[string]bool {
	if len(list) == 0 {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, v := range list {
		m[name(v)] = true
	}
	return m
}
