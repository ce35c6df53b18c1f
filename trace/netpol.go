package trace

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/netpol"
)

// NetworkPolicyHop is what the NetworkPolicies of the Service's (and the
// client's) namespace say about reaching the Service's pods. Whether they
// are enforced depends on the cluster's network plugin.
type NetworkPolicyHop struct {
	// Pods are the Service's pods that some policy selects for ingress,
	// with who may reach each port.
	Pods []PolicyPod `json:"pods"`
	// Client is the verdict for --from pod/NAME; nil without it.
	Client *PolicyClient `json:"client,omitempty"`
}

// PolicyPod is one pod isolated for ingress.
type PolicyPod struct {
	Pod string `json:"pod"`
	// Policies select the pod for ingress (namespace/name).
	Policies []string     `json:"policies"`
	Ports    []PolicyPort `json:"ports"`
}

// PolicyPort says who may reach one target port of a pod.
type PolicyPort struct {
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"`
	// Clients describe the sources admitted, one per rule peer; empty
	// when no rule admits the port.
	Clients []string `json:"clients"`
	// Rules are the rules admitting the port ("ns/name ingress[0]").
	Rules []string `json:"rules,omitempty"`
}

// PolicyClient is what policies say about the --from pod's connections.
type PolicyClient struct {
	// Pod is the --from pod (namespace/name); empty for an address.
	Pod string `json:"pod,omitempty"`
	// From names a client that is no pod (--from node, --from IP):
	// node/NAME (ADDRESS) or the address, which only an ipBlock matches.
	From string `json:"from,omitempty"`
	// EgressPolicies select the client for egress.
	EgressPolicies []string `json:"egressPolicies,omitempty"`
	// Connections are to each endpoint on its target port.
	Connections []PolicyConnection `json:"connections"`
	// DNS are to the kube-dns pods on their DNS ports, when the client's
	// egress is restricted.
	DNS []PolicyConnection `json:"dns,omitempty"`
}

// PolicyConnection is one connection's verdict and the rules behind it.
type PolicyConnection struct {
	// Source is the client's address in the destination's family.
	Source   string     `json:"source,omitempty"`
	Pod      string     `json:"pod,omitempty"`
	Address  string     `json:"address"`
	Port     int32      `json:"port"`
	Protocol string     `json:"protocol"`
	Verdict  string     `json:"verdict"`
	Ingress  PolicySide `json:"ingress"`
	Egress   PolicySide `json:"egress"`
}

// PolicySide is one direction's verdict: the destination's ingress or the
// client's egress.
type PolicySide struct {
	Verdict string `json:"verdict"`
	// Policies select the pod for this direction; none: not isolated.
	Policies []string `json:"policies,omitempty"`
	// AllowedBy are the rules that admit the connection.
	AllowedBy []string `json:"allowedBy,omitempty"`
	// Undecided are rules that need namespace labels not read.
	Undecided []string `json:"undecided,omitempty"`
	// OwnNode: the source is the pod's own node, always allowed.
	OwnNode bool `json:"ownNode,omitempty"`
}

func networkPolicyHop(in Input, t *Trace) *NetworkPolicyHop {
	if len(in.NetworkPolicies) == 0 || in.Service == nil {
		return nil
	}
	h := &NetworkPolicyHop{Pods: []PolicyPod{}}
	for i := range in.Pods {
		p := &in.Pods[i]
		dst := policyPod(in, p)
		pp := PolicyPod{Pod: p.Name}
		for _, sp := range in.Service.Spec.Ports {
			port, ok := resolveTargetPort(p, sp)
			if !ok {
				continue
			}
			a := netpol.Admits(in.NetworkPolicies, dst, port, protocolOf(sp.Protocol))
			if len(a.Selecting) == 0 {
				break
			}
			pp.Policies = a.Selecting
			pp.Ports = append(pp.Ports, admittedClients(a, port, protocolOf(sp.Protocol)))
		}
		if len(pp.Policies) > 0 {
			h.Pods = append(h.Pods, pp)
		}
	}
	if in.FromPod != nil {
		h.Client = clientVerdicts(in, t)
	} else if src, from, ok := addressClient(in, t); ok {
		h.Client = &PolicyClient{From: from, Connections: endpointConnections(in, t, src, []string{src.IP})}
	}
	if len(h.Pods) == 0 && (h.Client == nil || !h.Client.restricted()) {
		return nil
	}
	return h
}

// restricted reports whether some policy has a say in the client's
// connections.
func (c *PolicyClient) restricted() bool {
	if len(c.EgressPolicies) > 0 {
		return true
	}
	for _, x := range c.Connections {
		if len(x.Ingress.Policies) > 0 {
			return true
		}
	}
	return false
}

func admittedClients(a netpol.Admission, port int32, proto corev1.Protocol) PolicyPort {
	pp := PolicyPort{Port: port, Protocol: string(proto), Clients: []string{}}
	seen := map[string]bool{}
	for _, r := range a.Rules {
		pp.Rules = append(pp.Rules, ruleName(r.Rule))
		descs := []string{"any client"}
		if len(r.Peers) > 0 {
			descs = descs[:0]
			for _, peer := range r.Peers {
				descs = append(descs, describePeer(r.Namespace, peer))
			}
		}
		for _, d := range descs {
			if !seen[d] {
				seen[d] = true
				pp.Clients = append(pp.Clients, d)
			}
		}
	}
	return pp
}

// clientVerdicts decides the --from pod's connection to every endpoint on
// its target port, and, when its egress is restricted, its DNS queries.
func clientVerdicts(in Input, t *Trace) *PolicyClient {
	c := in.FromPod
	src := clientPeer(in)
	out := &PolicyClient{Pod: c.Namespace + "/" + c.Name, Connections: []PolicyConnection{}}
	if src.Pod != nil {
		out.EgressPolicies = policiesSelecting(in, netpol.Egress, src.Pod)
	}
	out.Connections = endpointConnections(in, t, src, clientIPs(in))
	if len(out.EgressPolicies) > 0 || dnsIsolated(in) {
		out.DNS = dnsVerdicts(in, src)
	}
	return out
}

// dnsIsolated reports whether some policy selects a kube-dns pod for
// ingress: the client's queries must then be admitted there too.
func dnsIsolated(in Input) bool {
	for i := range in.DNSPods {
		if len(policiesSelecting(in, netpol.Ingress, policyPod(in, &in.DNSPods[i]))) > 0 {
			return true
		}
	}
	return false
}

// endpointConnections decides src's connection to every endpoint on its
// target port; srcIPs are src's addresses, one per family.
func endpointConnections(in Input, t *Trace, src netpol.Peer, srcIPs []string) []PolicyConnection {
	pods := map[string]*corev1.Pod{}
	for i := range in.Pods {
		pods[in.Pods[i].Name] = &in.Pods[i]
	}
	out := []PolicyConnection{}
	for _, p := range t.Ports {
		for _, e := range p.Endpoints {
			dst := netpol.Peer{IP: e.Address}
			if pod := pods[e.Pod]; pod != nil {
				dst.Pod = policyPod(in, pod)
			}
			out = append(out, connection(in, src, dst, srcIPs, e.Pod, e.Port, corev1.Protocol(p.Protocol)))
		}
	}
	return out
}

// dnsVerdicts decides the client's queries to each kube-dns pod on the
// ports the kube-dns Service targets (UDP and TCP 53 as a rule).
func dnsVerdicts(in Input, src netpol.Peer) []PolicyConnection {
	if in.KubeDNS == nil || !usesClusterDNS(in.FromPod) {
		return nil
	}
	var out []PolicyConnection
	for i := range in.DNSPods {
		p := &in.DNSPods[i]
		for _, sp := range in.KubeDNS.Spec.Ports {
			port, ok := resolveTargetPort(p, sp)
			if !ok {
				continue
			}
			dst := netpol.Peer{Pod: policyPod(in, p), IP: familyIP(podIPs(p), firstIP(clientIPs(in)))}
			x := connection(in, src, dst, clientIPs(in), p.Name, port, protocolOf(sp.Protocol))
			if in.unreadIn(policiesResource, p.Namespace) {
				// kube-system's policies could not be read: only the
				// client's egress is decided.
				x.Ingress, x.Verdict = PolicySide{Verdict: "unchecked"}, x.Egress.Verdict
			}
			out = append(out, x)
		}
	}
	return out
}

// usesClusterDNS tells whether the pod's resolver asks the cluster DNS.
func usesClusterDNS(p *corev1.Pod) bool {
	switch p.Spec.DNSPolicy {
	case "", corev1.DNSClusterFirst:
		return !p.Spec.HostNetwork
	case corev1.DNSClusterFirstWithHostNet:
		return true
	}
	return false
}

func connection(in Input, src, dst netpol.Peer, srcIPs []string, pod string, port int32, proto corev1.Protocol) PolicyConnection {
	src.IP = familyIP(srcIPs, dst.IP)
	d := netpol.Evaluate(in.NetworkPolicies, netpol.Conn{Src: src, Dst: dst, Port: port, Protocol: proto})
	return PolicyConnection{Source: src.IP, Pod: pod, Address: dst.IP, Port: port, Protocol: string(proto), Verdict: string(d.Verdict),
		Ingress: policySide(d.Ingress), Egress: policySide(d.Egress)}
}

func policySide(s netpol.Side) PolicySide {
	out := PolicySide{Verdict: string(s.Verdict), Policies: s.Selecting, OwnNode: s.OwnNode}
	for _, r := range s.Allowing {
		out.AllowedBy = append(out.AllowedBy, ruleName(r))
	}
	for _, r := range s.Unsure {
		out.Undecided = append(out.Undecided, ruleName(r))
	}
	return out
}

func ruleName(r netpol.Rule) string { return fmt.Sprintf("%s %s[%d]", r.Policy, r.Direction, r.Index) }

// clientPeer is the --from pod as policies see it: a host-network pod is
// its node's address, which only an ipBlock matches.
func clientPeer(in Input) netpol.Peer {
	c := in.FromPod
	if c.Spec.HostNetwork {
		return netpol.Peer{Node: c.Spec.NodeName}
	}
	return netpol.Peer{Pod: policyPod(in, c)}
}

func clientIPs(in Input) []string { return podIPs(in.FromPod) }

func firstIP(ips []string) string {
	if len(ips) == 0 {
		return ""
	}
	return ips[0]
}

func podIPs(p *corev1.Pod) []string {
	var out []string
	for _, ip := range p.Status.PodIPs {
		out = append(out, ip.IP)
	}
	if len(out) == 0 && p.Status.PodIP != "" {
		out = append(out, p.Status.PodIP)
	}
	return out
}

// familyIP picks the address of ips in the family of like (the first one
// when like is no address); "" when there is none.
func familyIP(ips []string, like string) string {
	want, err := netip.ParseAddr(like)
	for _, ip := range ips {
		a, perr := netip.ParseAddr(ip)
		if perr == nil && (err != nil || a.Is4() == want.Unmap().Is4()) {
			return ip
		}
	}
	return ""
}

func policyPod(in Input, p *corev1.Pod) *netpol.Pod {
	var ports []corev1.ContainerPort
	for _, c := range servingContainers(p) {
		ports = append(ports, c.Ports...)
	}
	return &netpol.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, Node: p.Spec.NodeName,
		NamespaceLabels: in.namespaceLabels(p.Namespace), Ports: ports}
}

// namespaceLabels are the labels of namespace ns, nil when not read.
func (in Input) namespaceLabels(ns string) map[string]string {
	for _, n := range in.Namespaces {
		if n.Name == ns {
			if n.Labels == nil {
				return map[string]string{}
			}
			return n.Labels
		}
	}
	return nil
}

func policiesSelecting(in Input, dir netpol.Direction, pod *netpol.Pod) []string {
	var out []string
	for i := range in.NetworkPolicies {
		if netpol.Selects(&in.NetworkPolicies[i], dir, pod) {
			out = append(out, in.NetworkPolicies[i].Namespace+"/"+in.NetworkPolicies[i].Name)
		}
	}
	sort.Strings(out)
	return out
}

// joinList lists items for a sentence.
func joinList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
