// Package netpol decides whether networking.k8s.io/v1 NetworkPolicies let
// one connection through, and which policy and rule decide. It does no
// I/O: policies, pods and namespace labels come in, a Decision comes out.
// Whether a cluster enforces policies at all depends on its network
// plugin; this package says what the API objects mean.
package netpol

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// Pod is a pod as policies see it.
type Pod struct {
	Namespace string
	Name      string
	Labels    map[string]string
	// NamespaceLabels are its namespace's labels; nil when they were not
	// read (kubernetes.io/metadata.name is known all the same).
	NamespaceLabels map[string]string
	Node            string
	// Ports are its containers' ports: what a named policy port means on
	// this pod when it is the destination.
	Ports []corev1.ContainerPort
}

// Peer is one end of a connection: a pod, or an address only an ipBlock
// matches (a node, a host-network pod, a client outside the cluster).
type Peer struct {
	// Pod is nil for an address.
	Pod *Pod
	// IP is the address the packet carries; "" when unknown.
	IP string
	// Node names the node an address belongs to: traffic from a pod's own
	// node is always allowed to it.
	Node string
}

// Conn is one connection attempt, to Dst's Port.
type Conn struct {
	Src, Dst Peer
	Port     int32
	Protocol corev1.Protocol
}

// Verdict is what policies say of a connection, or of one side of it.
type Verdict string

const (
	Allowed Verdict = "allowed"
	Denied  Verdict = "denied"
	// Unknown: some rule needs namespace labels that were not read.
	Unknown Verdict = "unknown"
)

// Direction is the side of a connection a policy rule governs.
type Direction string

const (
	Ingress Direction = "ingress"
	Egress  Direction = "egress"
)

// Rule names one rule: spec.ingress[Index] or spec.egress[Index] of a policy.
type Rule struct {
	Policy    string // namespace/name
	Direction Direction
	Index     int
}

// Side is one direction's decision: the destination pod's ingress, or the
// source pod's egress.
type Side struct {
	Verdict Verdict
	// Applies is false when the side is not a pod (an address's egress,
	// traffic to an address's ingress): no policy governs it.
	Applies bool
	// Selecting are the policies (namespace/name) that select the pod for
	// this direction; none means it is not isolated and all is allowed.
	Selecting []string
	// Allowing are the rules that let the connection through.
	Allowing []Rule
	// Unsure are the rules whose peers need namespace labels not read.
	Unsure []Rule
	// OwnNode is set when ingress is allowed because the source is the
	// destination pod's own node, whatever the policies say.
	OwnNode bool
}

// Decision is a connection's verdict: allowed only when both the source's
// egress and the destination's ingress allow it.
type Decision struct {
	Verdict Verdict
	Ingress Side
	Egress  Side
}

// Evaluate decides c under policies, which may belong to any namespace:
// each applies to the pods of its own.
func Evaluate(policies []networkingv1.NetworkPolicy, c Conn) Decision {
	d := Decision{Ingress: Side{Verdict: Allowed}, Egress: Side{Verdict: Allowed}}
	if c.Src.Pod != nil {
		d.Egress = side(policies, Egress, c.Src.Pod, c.Dst, c)
	}
	if c.Dst.Pod != nil {
		if c.Src.Pod == nil && c.Src.Node != "" && c.Src.Node == c.Dst.Pod.Node {
			d.Ingress = Side{Verdict: Allowed, Applies: true, OwnNode: true,
				Selecting: selecting(policies, Ingress, c.Dst.Pod)}
		} else {
			d.Ingress = side(policies, Ingress, c.Dst.Pod, c.Src, c)
		}
	}
	d.Verdict = combine(d.Egress.Verdict, d.Ingress.Verdict)
	return d
}

func combine(a, b Verdict) Verdict {
	switch {
	case a == Denied || b == Denied:
		return Denied
	case a == Unknown || b == Unknown:
		return Unknown
	}
	return Allowed
}

// side decides one direction for pod, whose peer is the other end. The
// rules of every policy selecting pod for dir are a union: one rule
// allowing is enough.
func side(policies []networkingv1.NetworkPolicy, dir Direction, pod *Pod, peer Peer, c Conn) Side {
	s := Side{Applies: true, Selecting: selecting(policies, dir, pod)}
	if len(s.Selecting) == 0 {
		s.Verdict = Allowed
		return s
	}
	// A named port means a port of the destination pod, in either direction.
	dst := c.Dst.Pod
	for i := range policies {
		p := &policies[i]
		if !Selects(p, dir, pod) {
			continue
		}
		for j, r := range rules(p, dir) {
			if !portsMatch(r.ports, dst, c.Port, c.Protocol) {
				continue
			}
			rule := Rule{Policy: key(p), Direction: dir, Index: j}
			switch peersMatch(p.Namespace, r.peers, peer) {
			case yes:
				s.Allowing = append(s.Allowing, rule)
			case maybe:
				s.Unsure = append(s.Unsure, rule)
			}
		}
	}
	switch {
	case len(s.Allowing) > 0:
		s.Verdict = Allowed
	case len(s.Unsure) > 0:
		s.Verdict = Unknown
	default:
		s.Verdict = Denied
	}
	return s
}

// selecting lists the policies that select pod for dir.
func selecting(policies []networkingv1.NetworkPolicy, dir Direction, pod *Pod) []string {
	var out []string
	for i := range policies {
		if Selects(&policies[i], dir, pod) {
			out = append(out, key(&policies[i]))
		}
	}
	return out
}

// Selects reports whether p isolates pod for dir: p lives in pod's
// namespace, its podSelector matches pod, and dir is among its types.
func Selects(p *networkingv1.NetworkPolicy, dir Direction, pod *Pod) bool {
	if p.Namespace != pod.Namespace || !HasType(p, dir) {
		return false
	}
	return selectorMatches(&p.Spec.PodSelector, pod.Labels)
}

// HasType reports whether p governs dir. Without policyTypes, every
// policy governs ingress, and egress when it has egress rules.
func HasType(p *networkingv1.NetworkPolicy, dir Direction) bool {
	if len(p.Spec.PolicyTypes) == 0 {
		return dir == Ingress || len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		if string(t) == map[Direction]string{Ingress: "Ingress", Egress: "Egress"}[dir] {
			return true
		}
	}
	return false
}

// rule is an ingress or egress rule, alike for matching.
type rule struct {
	ports []networkingv1.NetworkPolicyPort
	peers []networkingv1.NetworkPolicyPeer
}

func rules(p *networkingv1.NetworkPolicy, dir Direction) []rule {
	var out []rule
	if dir == Ingress {
		for _, r := range p.Spec.Ingress {
			out = append(out, rule{r.Ports, r.From})
		}
		return out
	}
	for _, r := range p.Spec.Egress {
		out = append(out, rule{r.Ports, r.To})
	}
	return out
}

func key(p *networkingv1.NetworkPolicy) string { return p.Namespace + "/" + p.Name }

// Admission says who policies let reach a pod's port: anyone when no
// policy selects the pod for ingress.
type Admission struct {
	Selecting []string
	// Rules are the ingress rules admitting the port; a rule without
	// peers admits every source.
	Rules []Admitting
}

// Admitting is one rule admitting a port, and the sources it names.
type Admitting struct {
	Rule Rule
	// Namespace is the policy's: a peer's podSelector alone means pods of
	// this namespace.
	Namespace string
	Peers     []networkingv1.NetworkPolicyPeer
}

// Admits lists the ingress rules that admit port/proto on pod.
func Admits(policies []networkingv1.NetworkPolicy, pod *Pod, port int32, proto corev1.Protocol) Admission {
	a := Admission{Selecting: selecting(policies, Ingress, pod)}
	for i := range policies {
		p := &policies[i]
		if !Selects(p, Ingress, pod) {
			continue
		}
		for j, r := range rules(p, Ingress) {
			if portsMatch(r.ports, pod, port, proto) {
				a.Rules = append(a.Rules, Admitting{Rule: Rule{Policy: key(p), Direction: Ingress, Index: j}, Namespace: p.Namespace, Peers: r.peers})
			}
		}
	}
	return a
}
