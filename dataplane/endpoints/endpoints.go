// Package endpoints reads a Service port's endpoints from EndpointSlices and
// sorts them into the sets kube-proxy programs, exactly as kube-proxy's
// EndpointSliceCache and CategorizeEndpoints do. The iptables, nftables and
// IPVS expectations share it, so a rule about which endpoint is used (ready,
// serving-terminating fallback, topology hints, Local policies) lives once.
package endpoints

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Endpoint is one endpoint of one Service port, with its conditions read as
// kube-proxy reads them: a missing ready or serving means true, a missing
// terminating means false.
type Endpoint struct {
	AddrPort                           netip.AddrPort
	Local, Ready, Serving, Terminating bool
	// ZoneHints and NodeHints are the EndpointSlice hints (nil when none).
	ZoneHints, NodeHints map[string]bool
}

// Info gives Categorize the endpoint inside types that embed it.
func (e *Endpoint) Info() *Endpoint { return e }

// String is kube-proxy's Endpoint.String(): "ip:port", "[ip6]:port".
func (e *Endpoint) String() string { return e.AddrPort.String() }

// PortKey names a Service port the way EndpointSlice ports name it.
type PortKey struct {
	Namespace, Service, Port string
	Protocol                 corev1.Protocol
}

// ReadAll collects the endpoints of every Service port in the slices for
// one IP family, following EndpointSliceCache: slices without a service
// label or of the other family, ports without a name or number and
// endpoints without a parseable address are ignored; an address seen twice
// keeps the non-terminating copy (a reused pod IP); each list is sorted by
// String(), the order kube-proxy writes endpoint rules in.
func ReadAll(epSlices []*discoveryv1.EndpointSlice, ipv6 bool, nodeName string) map[PortKey][]*Endpoint {
	want := discoveryv1.AddressTypeIPv4
	if ipv6 {
		want = discoveryv1.AddressTypeIPv6
	}
	// kube-proxy merges a service's slices from a map keyed by slice name;
	// walking them by name makes the duplicate rule deterministic.
	sorted := make([]*discoveryv1.EndpointSlice, 0, len(epSlices))
	for _, s := range epSlices {
		if s != nil && s.AddressType == want && s.Name != "" && s.Labels[discoveryv1.LabelServiceName] != "" {
			sorted = append(sorted, s)
		}
	}
	slices.SortFunc(sorted, func(a, b *discoveryv1.EndpointSlice) int {
		return slices.Compare([]string{a.Namespace, a.Labels[discoveryv1.LabelServiceName], a.Name},
			[]string{b.Namespace, b.Labels[discoveryv1.LabelServiceName], b.Name})
	})
	sets := map[PortKey]map[string]*Endpoint{}
	for _, s := range sorted {
		for _, p := range s.Ports {
			if p.Name == nil || p.Port == nil || *p.Port <= 0 || *p.Port > 65535 {
				continue
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			key := PortKey{s.Namespace, s.Labels[discoveryv1.LabelServiceName], *p.Name, proto}
			if sets[key] == nil {
				sets[key] = map[string]*Endpoint{}
			}
			add(sets[key], s.Endpoints, uint16(*p.Port), nodeName)
		}
	}
	out := make(map[PortKey][]*Endpoint, len(sets))
	for key, set := range sets {
		list := make([]*Endpoint, 0, len(set))
		for _, e := range set {
			list = append(list, e)
		}
		slices.SortFunc(list, func(a, b *Endpoint) int { return strings.Compare(a.String(), b.String()) })
		out[key] = list
	}
	return out
}

// ForPort is ReadAll for the one port of svc; the slices of other Services
// are ignored.
func ForPort(epSlices []*discoveryv1.EndpointSlice, svc *corev1.Service, port corev1.ServicePort, ipv6 bool, nodeName string) []*Endpoint {
	var own []*discoveryv1.EndpointSlice
	for _, s := range epSlices {
		if s != nil && s.Namespace == svc.Namespace && s.Labels[discoveryv1.LabelServiceName] == svc.Name {
			own = append(own, s)
		}
	}
	proto := port.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	return ReadAll(own, ipv6, nodeName)[PortKey{svc.Namespace, svc.Name, port.Name, proto}]
}

func add(set map[string]*Endpoint, eps []discoveryv1.Endpoint, port uint16, nodeName string) {
	for i := range eps {
		e := &eps[i]
		if len(e.Addresses) == 0 {
			continue
		}
		ip, ok := ParseAddrSloppy(e.Addresses[0])
		if !ok {
			continue
		}
		c := e.Conditions
		info := &Endpoint{
			AddrPort:    netip.AddrPortFrom(ip, port),
			Local:       nodeName != "" && e.NodeName != nil && *e.NodeName == nodeName,
			Ready:       c.Ready == nil || *c.Ready,
			Serving:     c.Serving == nil || *c.Serving,
			Terminating: c.Terminating != nil && *c.Terminating,
		}
		if h := e.Hints; h != nil {
			info.ZoneHints = hintSet(h.ForZones, func(z discoveryv1.ForZone) string { return z.Name })
			info.NodeHints = hintSet(h.ForNodes, func(n discoveryv1.ForNode) string { return n.Name })
		}
		if _, exists := set[info.String()]; !exists || !info.Terminating {
			set[info.String()] = info
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

// ParseAddrSloppy parses an address the way kube-proxy does
// (k8s.io/utils/net.ParseIPSloppy): IPv4 octets with leading zeros are read
// as decimal, which the standard library refuses since Go 1.17, and old API
// objects can still carry. IPv4-mapped IPv6 addresses become IPv4.
func ParseAddrSloppy(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ip := net.ParseIP(s); ip != nil {
		a, ok := netip.AddrFromSlice(ip)
		return a.Unmap(), ok
	}
	if strings.Contains(s, ":") {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		if p == "" || len(p) > 3+8 {
			return netip.Addr{}, false
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(n)
	}
	return netip.AddrFrom4(b), true
}
