package netpol

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// tri is a match that may be unknown: a namespaceSelector on labels that
// were not read.
type tri int

const (
	no tri = iota
	maybe
	yes
)

// NamespaceNameLabel is set on every namespace by the API server, so it
// is known even when the namespace was not read.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// peersMatch reports whether other is among peers, for a rule of a policy
// in namespace ns. No peer at all means every source or destination.
func peersMatch(ns string, peers []networkingv1.NetworkPolicyPeer, other Peer) tri {
	if len(peers) == 0 {
		return yes
	}
	best := no
	for _, p := range peers {
		if m := peerMatches(ns, p, other); m > best {
			best = m
		}
	}
	return best
}

// peerMatches reports whether other is the peer p of a policy in
// namespace ns. An ipBlock matches by address whatever the other end is;
// selectors match pods only.
func peerMatches(ns string, p networkingv1.NetworkPolicyPeer, other Peer) tri {
	if p.IPBlock != nil {
		return boolTri(ipBlockMatches(p.IPBlock, other.IP))
	}
	pod := other.Pod
	if pod == nil || (p.PodSelector == nil && p.NamespaceSelector == nil) {
		return no
	}
	nsMatch := boolTri(pod.Namespace == ns)
	if p.NamespaceSelector != nil {
		nsMatch = namespaceMatches(p.NamespaceSelector, pod)
	}
	if nsMatch == no {
		return no
	}
	if p.PodSelector != nil && !selectorMatches(p.PodSelector, pod.Labels) {
		return no
	}
	return nsMatch
}

// namespaceMatches matches sel against pod's namespace. Without the
// namespace's labels, only a selector on its name can be decided.
func namespaceMatches(sel *metav1.LabelSelector, pod *Pod) tri {
	known := map[string]string{NamespaceNameLabel: pod.Namespace}
	if pod.NamespaceLabels != nil {
		for k, v := range pod.NamespaceLabels {
			known[k] = v
		}
		return boolTri(selectorMatches(sel, known))
	}
	for k := range sel.MatchLabels {
		if k != NamespaceNameLabel {
			return maybe
		}
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != NamespaceNameLabel {
			return maybe
		}
	}
	return boolTri(selectorMatches(sel, known))
}

// selectorMatches applies a label selector; an invalid one, which the API
// server refuses, selects nothing.
func selectorMatches(sel *metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false
	}
	return s.Matches(labels.Set(set))
}

// ipBlockMatches reports whether ip is in b's cidr and none of its excepts.
func ipBlockMatches(b *networkingv1.IPBlock, ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	in := func(cidr string) bool {
		p, err := netip.ParsePrefix(cidr)
		return err == nil && p.Contains(addr)
	}
	if !in(b.CIDR) {
		return false
	}
	for _, e := range b.Except {
		if in(e) {
			return false
		}
	}
	return true
}

// portsMatch reports whether port/proto is among ports. No port at all
// means every port; a port without a number means every port of its
// protocol; a named port is looked up among dst's container ports of the
// same protocol, so it matches nothing when the destination is no pod.
func portsMatch(ports []networkingv1.NetworkPolicyPort, dst *Pod, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if portMatches(p, dst, port, proto) {
			return true
		}
	}
	return false
}

// portMatches reports whether one policy port admits port/proto on dst.
func portMatches(p networkingv1.NetworkPolicyPort, dst *Pod, port int32, proto corev1.Protocol) bool {
	if protocolOf(p.Protocol) != protocolOr(proto) {
		return false
	}
	if p.Port == nil {
		return true
	}
	if p.Port.Type == 0 { // a number
		lo, hi := p.Port.IntVal, p.Port.IntVal
		if p.EndPort != nil {
			hi = *p.EndPort
		}
		return lo <= port && port <= hi
	}
	if dst == nil {
		return false
	}
	for _, cp := range dst.Ports {
		if cp.Name == p.Port.StrVal && protocolOr(cp.Protocol) == protocolOr(proto) && cp.ContainerPort == port {
			return true
		}
	}
	return false
}

func protocolOf(p *corev1.Protocol) corev1.Protocol {
	if p == nil {
		return corev1.ProtocolTCP
	}
	return protocolOr(*p)
}

// protocolOr defaults an empty protocol to TCP, as the API does.
func protocolOr(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func boolTri(b bool) tri {
	if b {
		return yes
	}
	return no
}
