package trace

import (
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dns"
	"github.com/svctrace/kubectl-svctrace/probe"
)

// ProbeSite is where a probe runs inside the cluster.
type ProbeSite struct {
	// Where names it: pod/NS/NAME, node/NAME, or the short-lived pod.
	Where string
	// Namespace is the client's namespace: its search list decides how
	// the Service's short name resolves.
	Namespace string
	// NodeAddr is the node address NodePorts are tried on; the zero value
	// tries none.
	NodeAddr netip.Addr
	// Entry is where its packets enter the node's rules: pod or node.
	Entry dataplane.Entry
	// Node is the node it ran on, once known.
	Node string
}

// maxProbeEndpoints bounds the endpoints tried per Service port, so a
// Service with thousands of endpoints probes in seconds and its plan fits
// a container argument; which ones were skipped is said.
const maxProbeEndpoints = 32

// probeTimeoutMillis bounds each connection and DNS exchange.
const probeTimeoutMillis = 3000

// ProbePlan is what a probe at site asks and connects to for the Service
// in in: the DNS questions the DNS check compares, the Service's short name
// through the site's search list, and for each port (or only port, when
// given) the ClusterIPs, external IPs, each endpoint and the NodePort.
func ProbePlan(in Input, site ProbeSite, port string) probe.Plan {
	p := probe.Plan{TimeoutMillis: probeTimeoutMillis}
	if e, err := DNSExpectation(in); err == nil {
		p.Questions = append([]dns.Question{{Name: KubernetesProbeName(e.Zone), Type: dns.TypeA}}, e.Questions()...)
		p.Search = []string{searchQuery(in, site.Namespace)}
		p.SearchType = searchType(in.Service)
	}
	if in.Service == nil || in.Service.Spec.Type == corev1.ServiceTypeExternalName {
		return p
	}
	svc := in.Service
	for _, ph := range portHops(svc, in.EndpointSlices, in.Pods) {
		if port != "" && !portMatches(ph, port) {
			continue
		}
		proto := ph.Protocol
		if proto != string(corev1.ProtocolTCP) && proto != string(corev1.ProtocolUDP) {
			continue // SCTP: no unprivileged probe
		}
		label := probePortName(ph)
		http := speaksHTTP(svc, ph)
		add := func(kind probe.Kind, addr string, n int32, pod string) {
			a, err := netip.ParseAddr(addr)
			if err != nil || n <= 0 || n > 65535 {
				return
			}
			p.Targets = append(p.Targets, probe.Target{Kind: kind, Port: label, Addr: netip.AddrPortFrom(a, uint16(n)), Protocol: proto, HTTP: http, Pod: pod})
		}
		for _, ip := range clusterIPs(svc) {
			add(probe.KindClusterIP, ip, ph.Port, "")
		}
		for _, ip := range svc.Spec.ExternalIPs {
			add(probe.KindExternalIP, ip, ph.Port, "")
		}
		if ph.NodePort != 0 && site.NodeAddr.IsValid() {
			add(probe.KindNodePort, site.NodeAddr.String(), ph.NodePort, "")
		}
		for i, ep := range ph.Endpoints {
			if i == maxProbeEndpoints {
				break
			}
			add(probe.KindEndpoint, ep.Address, ep.Port, ep.Pod)
		}
	}
	return p
}

// KubernetesProbeName is the name every cluster DNS serves; an NXDOMAIN
// for it means the server is not the cluster's.
func KubernetesProbeName(zone string) string {
	return "kubernetes.default.svc." + zone + "."
}

// searchQuery is how a client in namespace ns names the Service: its short
// name in the Service's namespace, name.namespace elsewhere.
func searchQuery(in Input, ns string) string {
	if ns == "" || ns == in.Namespace {
		return in.Name
	}
	return in.Name + "." + in.Namespace
}

// searchType is the address type a client of svc asks for.
func searchType(svc *corev1.Service) dns.RecordType {
	if svc != nil && len(svc.Spec.IPFamilies) > 0 && svc.Spec.IPFamilies[0] == corev1.IPv6Protocol {
		return dns.TypeAAAA
	}
	return dns.TypeA
}

func clusterIPs(svc *corev1.Service) []string {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	var out []string
	for _, ip := range ips {
		if ip != corev1.ClusterIPNone && ip != "" {
			out = append(out, ip)
		}
	}
	return out
}

// probePortName names a Service port in a probe target: its name, else its number.
func probePortName(ph PortHop) string {
	if ph.Name != "" {
		return ph.Name
	}
	return strconv.Itoa(int(ph.Port))
}

func portMatches(ph PortHop, port string) bool {
	return ph.Name == port || strconv.Itoa(int(ph.Port)) == port || (ph.NodePort != 0 && strconv.Itoa(int(ph.NodePort)) == port)
}

// speaksHTTP reports whether the port says it is HTTP: its appProtocol, or
// a name (of the port or its targetPort) that is http or starts with http-.
func speaksHTTP(svc *corev1.Service, ph PortHop) bool {
	for _, sp := range svc.Spec.Ports {
		if sp.Port == ph.Port && sp.Name == ph.Name && sp.AppProtocol != nil {
			ap := strings.ToLower(*sp.AppProtocol)
			return ap == "http" || ap == "kubernetes.io/h2c"
		}
	}
	for _, n := range []string{ph.Name, ph.TargetPort} {
		n = strings.ToLower(n)
		if n == "http" || strings.HasPrefix(n, "http-") {
			return true
		}
	}
	return false
}
