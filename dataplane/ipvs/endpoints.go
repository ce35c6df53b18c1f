package ipvs

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpoint is one EndpointSlice endpoint for one service port, with the
// conditions read the way kube-proxy's EndpointSliceCache reads them:
// a missing ready or serving means true, a missing terminating means false.
type endpoint struct {
	addr        netip.AddrPort
	local       bool
	ready       bool
	serving     bool
	terminating bool
}

// endpointsFor collects the endpoints of one service port and IP family from
// the Service's slices, one per address:port. Slices of other services,
// other families (and FQDN slices) are ignored; the first address of an
// endpoint is the one kube-proxy uses.
func endpointsFor(svc *corev1.Service, epSlices []*discoveryv1.EndpointSlice, port corev1.ServicePort, ipv6 bool, nodeName string) []endpoint {
	want := discoveryv1.AddressTypeIPv4
	if ipv6 {
		want = discoveryv1.AddressTypeIPv6
	}
	var out []endpoint
	seen := map[netip.AddrPort]int{}
	for _, s := range epSlices {
		if s == nil || s.Namespace != svc.Namespace || s.Labels[discoveryv1.LabelServiceName] != svc.Name || s.AddressType != want {
			continue
		}
		num, ok := slicePort(s, port)
		if !ok {
			continue
		}
		for _, e := range s.Endpoints {
			ep, ok := toEndpoint(e, num, nodeName)
			if !ok {
				continue
			}
			// An endpoint moving between slices shows up twice for a moment;
			// prefer the ready copy so a stale not-ready one does not hide it.
			if i, dup := seen[ep.addr]; dup {
				if !out[i].ready && ep.ready {
					out[i] = ep
				}
				continue
			}
			seen[ep.addr] = len(out)
			out = append(out, ep)
		}
	}
	return out
}

func slicePort(s *discoveryv1.EndpointSlice, port corev1.ServicePort) (uint16, bool) {
	proto := port.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, p := range s.Ports {
		if p.Name == nil || *p.Name != port.Name || p.Port == nil || *p.Port <= 0 || *p.Port > 65535 {
			continue
		}
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp == proto {
			return uint16(*p.Port), true
		}
	}
	return 0, false
}

func toEndpoint(e discoveryv1.Endpoint, port uint16, nodeName string) (endpoint, bool) {
	if len(e.Addresses) == 0 {
		return endpoint{}, false
	}
	addr, err := netip.ParseAddr(e.Addresses[0])
	if err != nil {
		return endpoint{}, false
	}
	c := e.Conditions
	return endpoint{
		addr:        netip.AddrPortFrom(addr.Unmap(), port),
		local:       nodeName != "" && e.NodeName != nil && *e.NodeName == nodeName,
		ready:       c.Ready == nil || *c.Ready,
		serving:     c.Serving == nil || *c.Serving,
		terminating: c.Terminating != nil && *c.Terminating,
	}, true
}

// categorize mirrors kube-proxy's CategorizeEndpoints without topology
// hints: cluster endpoints are the ready ones, or the serving-terminating
// ones when none is ready; local endpoints likewise among this node's.
func categorize(eps []endpoint, usesCluster, usesLocal bool) (cluster, local []endpoint) {
	pick := func(keep func(endpoint) bool) []endpoint {
		var out []endpoint
		for _, e := range eps {
			if keep(e) {
				out = append(out, e)
			}
		}
		return out
	}
	fallback := func(e endpoint) bool { return e.serving && e.terminating }
	if usesCluster {
		cluster = pick(func(e endpoint) bool { return e.ready })
		if len(cluster) == 0 {
			cluster = pick(fallback)
		}
	}
	if usesLocal {
		local = pick(func(e endpoint) bool { return e.local && e.ready })
		if len(local) == 0 {
			local = pick(func(e endpoint) bool { return e.local && fallback(e) })
		}
	}
	return cluster, local
}
