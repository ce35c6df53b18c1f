package ipvs

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/endpoints"
)

// portPlan holds what is common to every virtual server of one service port.
type portPlan struct {
	portName      string
	template      VirtualServer
	all           []*endpoints.Endpoint
	cluster       []*endpoints.Endpoint
	local         []*endpoints.Endpoint
	internalLocal bool
	externalLocal bool
}

// newPortPlan plans one port; accessible is ServicePort.ExternallyAccessible
// for this family: the port has a nodePort, or the Service has load-balancer
// or external IPs of the family.
func newPortPlan(svc *corev1.Service, epSlices []*discoveryv1.EndpointSlice, node Node, port corev1.ServicePort, ipv6, accessible bool) portPlan {
	p := portPlan{portName: svc.Namespace + "/" + svc.Name}
	if port.Name != "" {
		p.portName += ":" + port.Name
	}
	proto := Protocol(strings.ToUpper(string(port.Protocol)))
	if proto == "" {
		proto = TCP
	}
	sched := node.Scheduler
	if sched == "" {
		sched = DefaultScheduler
	}
	p.template = VirtualServer{Protocol: proto, Scheduler: sched, IPv6: ipv6}
	if svc.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		p.template.Flags |= FlagPersistent
		p.template.Timeout = defaultAffinityTimeout
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			p.template.Timeout = uint32(*c.ClientIP.TimeoutSeconds)
		}
	}
	if sched == "mh" {
		p.template.Flags |= FlagSched2 // kube-proxy's FlagSourceHash
	}

	externallyAccessible := svc.Spec.Type == corev1.ServiceTypeLoadBalancer ||
		svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
	p.externalLocal = externallyAccessible && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
	p.internalLocal = svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal
	usesCluster := !p.internalLocal || accessible
	usesLocal := p.internalLocal || (p.externalLocal && accessible)

	p.all = endpoints.ForPort(epSlices, svc, port, ipv6, node.Name)
	sets := endpoints.Categorize(p.all, endpoints.Policy{UsesCluster: usesCluster, UsesLocal: usesLocal, Node: node.Name, Zone: node.Zone})
	p.cluster, p.local = sets.Cluster, sets.Local
	return p
}

// add appends one virtual server. onlyLocal mirrors syncEndpoint: local
// endpoints when there are any, else the cluster-wide ones (kubernetes#97081
// keeps pods on the node able to reach the service).
func (p portPlan) add(exp *Expected, role Role, addr netip.Addr, port uint16, onlyLocal bool) {
	vs := p.template
	vs.Address, vs.Port = addr, port
	use, pool := p.cluster, p.all
	if onlyLocal && len(p.local) > 0 {
		use, pool = p.local, localOnly(p.all)
	}
	inUse := map[string]bool{}
	for _, e := range use {
		inUse[e.AddrPort.String()] = true
		vs.RealServers = append(vs.RealServers, realServer(e, 1))
	}
	// Graceful termination: kube-proxy sets a removed TCP real server's weight
	// to 0 and deletes it when its connections end; UDP and SCTP ones go at once.
	if vs.Protocol == TCP {
		for _, e := range pool {
			if e.Terminating && !inUse[e.AddrPort.String()] {
				vs.RealServers = append(vs.RealServers, realServer(e, 0))
			}
		}
	}
	t := Table{VirtualServers: []VirtualServer{vs}}
	t.Sort()
	exp.VirtualServers = append(exp.VirtualServers, ExpectedVirtualServer{VirtualServer: t.VirtualServers[0], Role: role, PortName: p.portName})
}

func localOnly(eps []*endpoints.Endpoint) []*endpoints.Endpoint {
	var out []*endpoints.Endpoint
	for _, e := range eps {
		if e.Local {
			out = append(out, e)
		}
	}
	return out
}

func realServer(e *endpoints.Endpoint, weight int) RealServer {
	return RealServer{Address: e.AddrPort.Addr(), Port: e.AddrPort.Port(), Weight: weight, Forward: Masquerade}
}
