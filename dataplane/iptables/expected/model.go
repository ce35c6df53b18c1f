package expected

import (
	"fmt"
	"net"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// ServicePort is one port of one Service as kube-proxy programs it for one
// IP family, with the chains and endpoints it gets.
type ServicePort struct {
	Namespace, Service, PortName string
	Protocol                     corev1.Protocol
	// ID is the PortName string used in comments and hashes ("ns/svc:port"
	// or "ns/svc").
	ID string

	ClusterIP           string
	Port                int
	NodePort            int
	HealthCheckNodePort int
	ExternalIPs         []string
	LoadBalancerIPs     []string // VIP-mode ingress IPs of this family
	SourceRanges        []string // loadBalancerSourceRanges of this family
	ExternalPolicyLocal bool
	InternalPolicyLocal bool
	// AffinityTimeout is the ClientIP session affinity timeout in seconds,
	// 0 without session affinity.
	AffinityTimeout int

	Chains Chains
	// ClusterEndpoints and LocalEndpoints are the endpoints of the
	// KUBE-SVC and KUBE-SVL chains, in rule order, with the probability of
	// each rule. They are empty when the chain does not exist.
	ClusterEndpoints []Endpoint
	LocalEndpoints   []Endpoint
	// Reachable lists the endpoints that get a KUBE-SEP chain, sorted by
	// address; their Probability and Share are left zero.
	Reachable []Endpoint
	// HasEndpoints is false when no endpoint anywhere is usable: kube-proxy
	// then writes only filter-table REJECT rules for the service port.
	HasEndpoints bool
	// NoLocalInternal / NoLocalExternal report that a Local traffic policy
	// has no local endpoint, so that traffic is dropped.
	NoLocalInternal, NoLocalExternal bool

	all []*endpointInfo // every endpoint of the port, sorted
}

// NoEndpoints reports whether the service port has no usable endpoint.
func (sp *ServicePort) NoEndpoints() bool { return !sp.HasEndpoints }

// ExternallyAccessible reports whether the port is reachable other than
// through its cluster IP.
func (sp *ServicePort) ExternallyAccessible() bool {
	return sp.NodePort != 0 || len(sp.LoadBalancerIPs) != 0 || len(sp.ExternalIPs) != 0
}

func (sp *ServicePort) usesClusterEndpoints() bool {
	return !sp.InternalPolicyLocal || sp.ExternallyAccessible()
}

func (sp *ServicePort) usesLocalEndpoints() bool {
	return sp.InternalPolicyLocal || (sp.ExternalPolicyLocal && sp.ExternallyAccessible())
}

// Endpoint is one endpoint of a service port.
type Endpoint struct {
	IP                                 string
	Port                               int
	Address                            string // ip:port, [ip]:port for IPv6
	Chain                              string // KUBE-SEP-…
	Local, Ready, Serving, Terminating bool

	// Probability is the --probability argument of this endpoint's rule in
	// the service chain, empty for the last rule, which always matches.
	Probability string
	// Share is the fraction of new connections the endpoint receives.
	Share float64
}

type portKey struct {
	namespace, name, port string
	protocol              corev1.Protocol
}

func (k portKey) less(o portKey) int {
	return cmpStrings(
		[]string{k.namespace, k.name, k.port, string(k.protocol)},
		[]string{o.namespace, o.name, o.port, string(o.protocol)})
}

func cmpStrings(a, b []string) int {
	for i := range a {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// servicePorts turns Services into service ports the way kube-proxy's
// ServiceChangeTracker does, sorted by namespace, name, port and protocol.
func servicePorts(c *nodeConfig, services []*corev1.Service, warn func(string, ...any)) ([]*ServicePort, map[portKey]*ServicePort) {
	byKey := map[portKey]*ServicePort{}
	for _, svc := range services {
		if svc == nil || skipService(svc) {
			continue
		}
		cip := clusterIPByFamily(c.family, svc)
		if cip == "" {
			continue
		}
		ip := parseIPSloppy(cip)
		if ip == nil {
			warn("service %s/%s: invalid cluster IP %q skipped", svc.Namespace, svc.Name, cip)
			continue
		}
		for i := range svc.Spec.Ports {
			sp := newServicePort(c, svc, &svc.Spec.Ports[i], ip, warn)
			byKey[portKey{svc.Namespace, svc.Name, sp.PortName, sp.Protocol}] = sp
		}
	}
	keys := make([]portKey, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, portKey.less)
	out := make([]*ServicePort, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out, byKey
}

func skipService(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone ||
		svc.Spec.Type == corev1.ServiceTypeExternalName
}

// clusterIPByFamily follows proxyutil.GetClusterIPByFamily, including the
// fallback for objects written before dual-stack fields existed.
func clusterIPByFamily(family corev1.IPFamily, svc *corev1.Service) string {
	if len(svc.Spec.IPFamilies) == 0 {
		if (family == corev1.IPv6Protocol) == isIPv6String(svc.Spec.ClusterIP) {
			return svc.Spec.ClusterIP
		}
		return ""
	}
	for i, f := range svc.Spec.IPFamilies {
		if f == family && i < len(svc.Spec.ClusterIPs) {
			return svc.Spec.ClusterIPs[i]
		}
	}
	return ""
}

func externallyAccessible(svc *corev1.Service) bool {
	t := svc.Spec.Type
	return t == corev1.ServiceTypeLoadBalancer || t == corev1.ServiceTypeNodePort ||
		(t == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

func newServicePort(c *nodeConfig, svc *corev1.Service, p *corev1.ServicePort, clusterIP net.IP, warn func(string, ...any)) *ServicePort {
	proto := p.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	sp := &ServicePort{
		Namespace: svc.Namespace, Service: svc.Name, PortName: p.Name, Protocol: proto,
		ID:        PortName(svc.Namespace, svc.Name, p.Name),
		ClusterIP: clusterIP.String(), Port: int(p.Port), NodePort: int(p.NodePort),
		ExternalPolicyLocal: externallyAccessible(svc) &&
			svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
		InternalPolicyLocal: svc.Spec.InternalTrafficPolicy != nil &&
			*svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal,
	}
	sp.Chains = ChainNames(sp.ID, proto)
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		sp.AffinityTimeout = int(corev1.DefaultClientIPServiceAffinitySeconds)
		if cfg := svc.Spec.SessionAffinityConfig; cfg != nil && cfg.ClientIP != nil && cfg.ClientIP.TimeoutSeconds != nil {
			sp.AffinityTimeout = int(*cfg.ClientIP.TimeoutSeconds)
		}
	}
	for _, s := range svc.Spec.ExternalIPs {
		if ip := parseIPSloppy(s); ip != nil && familyOf(ip) == c.family {
			sp.ExternalIPs = append(sp.ExternalIPs, ip.String())
		} else if ip == nil && strings.TrimSpace(s) != "" {
			warn("service %s/%s: invalid external IP %q skipped", svc.Namespace, svc.Name, s)
		}
	}
	sp.SourceRanges = sourceRanges(c, svc, warn)
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IP == "" || (ing.IPMode != nil && *ing.IPMode != corev1.LoadBalancerIPModeVIP) {
			continue
		}
		if ip := parseIPSloppy(ing.IP); ip != nil && familyOf(ip) == c.family {
			sp.LoadBalancerIPs = append(sp.LoadBalancerIPs, ip.String())
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && sp.ExternalPolicyLocal {
		sp.HealthCheckNodePort = int(svc.Spec.HealthCheckNodePort)
	}
	return sp
}

// sourceRanges trims whitespace (validation once let it through), keeps
// the family's CIDRs and treats any /0 as "no restriction".
func sourceRanges(c *nodeConfig, svc *corev1.Service, warn func(string, ...any)) []string {
	var out []string
	for _, raw := range svc.Spec.LoadBalancerSourceRanges {
		s := strings.TrimSpace(raw)
		cidr, err := parseCIDRSloppy(s)
		if err != nil {
			if s != "" {
				warn("service %s/%s: invalid loadBalancerSourceRange %q skipped", svc.Namespace, svc.Name, raw)
			}
			continue
		}
		if familyOfCIDR(cidr) != c.family {
			continue
		}
		if ones, _ := cidr.Mask.Size(); ones == 0 {
			return nil
		}
		out = append(out, cidr.String())
	}
	return out
}

func (sp *ServicePort) String() string {
	return fmt.Sprintf("%s/%s", sp.ID, protoString(sp.Protocol))
}

// OwnChains lists the nat chains kube-proxy writes for this port alone:
// the service chains it uses, then one endpoint chain per reachable endpoint.
func (sp *ServicePort) OwnChains() []string {
	out := sp.ServiceChains()
	for _, e := range sp.Reachable {
		out = append(out, e.Chain)
	}
	return out
}

// ServiceChains are the port's KUBE-SVC/SVL/EXT/FW chains kube-proxy writes.
func (sp *ServicePort) ServiceChains() []string {
	var out []string
	c := sp.Chains
	for _, ch := range []struct {
		name string
		used bool
	}{{c.Cluster, c.UsesCluster}, {c.Local, c.UsesLocal}, {c.External, c.UsesExternal}, {c.Firewall, c.UsesFirewall}} {
		if ch.used {
			out = append(out, ch.name)
		}
	}
	return out
}
