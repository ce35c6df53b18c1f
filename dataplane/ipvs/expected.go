package ipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// DefaultScheduler is kube-proxy's --ipvs-scheduler default.
const DefaultScheduler = "rr"

// DummyInterface is the interface kube-proxy binds service VIPs to.
const DummyInterface = "kube-ipvs0"

// defaultAffinityTimeout is the API server's default for
// sessionAffinityConfig.clientIP.timeoutSeconds.
const defaultAffinityTimeout = 10800

// Node holds the facts about the node whose kube-proxy is being checked.
type Node struct {
	// Name is matched against EndpointSlice endpoints' nodeName for the
	// Local traffic policies.
	Name string
	// IPs are the node's addresses outside kube-ipvs0. NodePort virtual
	// servers are created on each of them (kube-proxy's default
	// nodePortAddresses), and external or load-balancer IPs that are node
	// addresses are not bound to kube-ipvs0.
	IPs []netip.Addr
	// Scheduler is kube-proxy's --ipvs-scheduler; empty means "rr".
	Scheduler string
	// Zone is the node's topology.kubernetes.io/zone label, matched against
	// EndpointSlice zone hints.
	Zone string
}

// Role says why a virtual server exists.
type Role string

// Roles of a Service's virtual servers.
const (
	RoleClusterIP      Role = "cluster IP"
	RoleExternalIP     Role = "external IP"
	RoleLoadBalancerIP Role = "load balancer IP"
	RoleNodePort       Role = "node port"
)

// ExpectedVirtualServer is one virtual server kube-proxy should program.
// Real servers of weight 0 are terminating TCP endpoints kube-proxy drains:
// the kernel may already have deleted them once their connections ended.
type ExpectedVirtualServer struct {
	VirtualServer
	Role Role
	// PortName is kube-proxy's service port name, "ns/name:port" or "ns/name".
	PortName string
}

// Expected is the IPVS state of one Service on one node.
type Expected struct {
	// Service is "namespace/name".
	Service string
	// Skipped says why kube-proxy ignores the Service (headless,
	// ExternalName); empty when it programs it.
	Skipped string
	// Bound are the addresses kube-proxy binds to kube-ipvs0.
	Bound          []netip.Addr
	VirtualServers []ExpectedVirtualServer
}

// ExpectedFor computes the IPVS state kube-proxy's IPVS mode programs for svc
// (pkg/proxy/ipvs/proxier.go, syncProxyRules and syncEndpoint), given the
// Service's EndpointSlices (slices of other services are ignored) and node.
func ExpectedFor(svc *corev1.Service, epSlices []*discoveryv1.EndpointSlice, node Node) (Expected, error) {
	if svc == nil {
		return Expected{}, errors.New("expected ipvs state: service is nil")
	}
	exp := Expected{Service: svc.Namespace + "/" + svc.Name}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		exp.Skipped = "ExternalName services are not proxied"
		return exp, nil
	}
	clusterIPs, err := serviceClusterIPs(svc)
	if err != nil {
		return exp, err
	}
	if len(clusterIPs) == 0 {
		exp.Skipped = "headless service (clusterIP None) is not proxied"
		return exp, nil
	}
	for _, cip := range clusterIPs {
		if err := addFamily(&exp, svc, epSlices, node, cip); err != nil {
			return exp, err
		}
	}
	slices.SortFunc(exp.Bound, netip.Addr.Compare)
	exp.Bound = slices.Compact(exp.Bound)
	return exp, nil
}

func serviceClusterIPs(svc *corev1.Service) ([]netip.Addr, error) {
	raw := svc.Spec.ClusterIPs
	if len(raw) == 0 && svc.Spec.ClusterIP != "" {
		raw = []string{svc.Spec.ClusterIP}
	}
	var out []netip.Addr
	for _, s := range raw {
		if s == "" || s == corev1.ClusterIPNone {
			return nil, nil
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("service %s/%s: cluster IP %q is not an address", svc.Namespace, svc.Name, s)
		}
		out = append(out, a.Unmap())
	}
	return out, nil
}

// addFamily adds the virtual servers of one IP family: kube-proxy runs one
// proxier per family and each sees only its family's addresses.
func addFamily(exp *Expected, svc *corev1.Service, epSlices []*discoveryv1.EndpointSlice, node Node, clusterIP netip.Addr) error {
	ipv6 := clusterIP.Is6()
	sameFamily := func(a netip.Addr) bool { return a.Is6() == ipv6 }
	externalIPs := parseAddrs(svc.Spec.ExternalIPs, sameFamily)
	var lbIPs []netip.Addr
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IPMode != nil && *ing.IPMode != corev1.LoadBalancerIPModeVIP {
			continue // Proxy mode: the load balancer delivers to the node, not the VIP
		}
		lbIPs = append(lbIPs, parseAddrs([]string{ing.IP}, sameFamily)...)
	}
	nodeIPs := slices.DeleteFunc(slices.Clone(node.IPs), func(a netip.Addr) bool { return !sameFamily(a) })

	exp.Bound = append(exp.Bound, clusterIP)
	for _, a := range append(slices.Clone(externalIPs), lbIPs...) {
		if !slices.Contains(node.IPs, a) {
			exp.Bound = append(exp.Bound, a)
		}
	}
	for _, port := range svc.Spec.Ports {
		accessible := port.NodePort != 0 || len(lbIPs) > 0 || len(externalIPs) > 0
		p := newPortPlan(svc, epSlices, node, port, ipv6, accessible)
		p.add(exp, RoleClusterIP, clusterIP, uint16(port.Port), p.internalLocal)
		for _, a := range externalIPs {
			p.add(exp, RoleExternalIP, a, uint16(port.Port), p.externalLocal)
		}
		for _, a := range lbIPs {
			p.add(exp, RoleLoadBalancerIP, a, uint16(port.Port), p.externalLocal)
		}
		if port.NodePort != 0 {
			for _, a := range nodeIPs {
				p.add(exp, RoleNodePort, a, uint16(port.NodePort), p.externalLocal)
			}
		}
	}
	return nil
}

func parseAddrs(raw []string, keep func(netip.Addr) bool) []netip.Addr {
	var out []netip.Addr
	for _, s := range raw {
		if a, err := netip.ParseAddr(s); err == nil && keep(a.Unmap()) {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// Is6 reports whether v is an IPv6 virtual server.
func (v VirtualServer) Is6() bool { return v.IPv6 || v.Address.Is6() }

// OfFamily keeps only the virtual servers and bound addresses of one IP
// family (IPv6 when v6): what kube-proxy's proxier of that family
// programs, as it runs one proxier per family on a dual-stack node.
func (e Expected) OfFamily(v6 bool) Expected {
	e.Bound = slices.DeleteFunc(slices.Clone(e.Bound), func(a netip.Addr) bool { return a.Is6() != v6 })
	e.VirtualServers = slices.DeleteFunc(slices.Clone(e.VirtualServers), func(vs ExpectedVirtualServer) bool { return vs.Is6() != v6 })
	return e
}
