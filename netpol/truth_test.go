package netpol

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The truth tables follow the model of the upstream NetworkPolicy
// conformance tests and policy-assistant: namespaces x, y and z (labelled
// ns=NAME), each with pods a, b and c (labelled pod=NAME), every pod
// serving 80 and 81 over TCP and UDP under the names serve-80-tcp, ...
// A table starts from "everything allowed" and lists the exceptions.

var (
	namespaces = []string{"x", "y", "z"}
	podNames   = []string{"a", "b", "c"}
	tcp, udp   = corev1.ProtocolTCP, corev1.ProtocolUDP
)

func modelPod(ns, name string) *Pod {
	var ports []corev1.ContainerPort
	for _, port := range []int32{80, 81} {
		for _, proto := range []corev1.Protocol{tcp, udp} {
			ports = append(ports, corev1.ContainerPort{Name: fmt.Sprintf("serve-%d-%s", port, strings.ToLower(string(proto))), ContainerPort: port, Protocol: proto})
		}
	}
	return &Pod{Namespace: ns, Name: name, Labels: map[string]string{"pod": name},
		NamespaceLabels: map[string]string{"ns": ns, NamespaceNameLabel: ns}, Node: "node-" + name, Ports: ports}
}

// modelIP gives x/a 10.0.0.1, x/b 10.0.0.2, y/a 10.0.1.1, ...
func modelIP(ns, name string) string {
	return fmt.Sprintf("10.0.%d.%d", strings.Index("xyz", ns), strings.Index("abc", name)+1)
}

func modelPeer(id string) Peer {
	ns, name, _ := strings.Cut(id, "/")
	return Peer{Pod: modelPod(ns, name), IP: modelIP(ns, name)}
}

func allPods() []string {
	var out []string
	for _, ns := range namespaces {
		for _, p := range podNames {
			out = append(out, ns+"/"+p)
		}
	}
	return out
}

// reach is a truth table: from → to → allowed.
type reach map[string]map[string]bool

func allAllowed() reach {
	r := reach{}
	for _, from := range allPods() {
		r[from] = map[string]bool{}
		for _, to := range allPods() {
			r[from][to] = true
		}
	}
	return r
}

// set marks every pair whose source has prefix from and destination
// prefix to ("x/" is namespace x, "" every pod).
func (r reach) set(from, to string, v bool) reach {
	for f := range r {
		for t := range r[f] {
			if strings.HasPrefix(f, from) && strings.HasPrefix(t, to) {
				r[f][t] = v
			}
		}
	}
	return r
}

func sel(kv ...string) *metav1.LabelSelector {
	s := &metav1.LabelSelector{MatchLabels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.MatchLabels[kv[i]] = kv[i+1]
	}
	return s
}

func policy(name string, pods *metav1.LabelSelector, mutate func(*networkingv1.NetworkPolicySpec)) networkingv1.NetworkPolicy {
	p := networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: name}, Spec: networkingv1.NetworkPolicySpec{PodSelector: *pods}}
	mutate(&p.Spec)
	return p
}

func types(ts ...networkingv1.PolicyType) func(*networkingv1.NetworkPolicySpec) {
	return func(s *networkingv1.NetworkPolicySpec) { s.PolicyTypes = ts }
}

func ingress(rules ...networkingv1.NetworkPolicyIngressRule) func(*networkingv1.NetworkPolicySpec) {
	return func(s *networkingv1.NetworkPolicySpec) { s.Ingress = rules }
}

func egress(rules ...networkingv1.NetworkPolicyEgressRule) func(*networkingv1.NetworkPolicySpec) {
	return func(s *networkingv1.NetworkPolicySpec) { s.Egress = rules }
}

func both(fs ...func(*networkingv1.NetworkPolicySpec)) func(*networkingv1.NetworkPolicySpec) {
	return func(s *networkingv1.NetworkPolicySpec) {
		for _, f := range fs {
			f(s)
		}
	}
}

func port(p intstr.IntOrString, proto *corev1.Protocol) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Port: &p, Protocol: proto}
}

func notIn(key string, values ...string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: key, Operator: metav1.LabelSelectorOpNotIn, Values: values}}}
}

func TestTruthTables(t *testing.T) {
	ingressType, egressType := networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress
	tcpP, udpP := tcp, udp
	end := int32(90)
	for _, tc := range []struct {
		name     string
		policies []networkingv1.NetworkPolicy
		port     int32
		proto    corev1.Protocol
		want     reach
	}{
		{name: "no policy allows everything", port: 80, proto: tcp, want: allAllowed()},
		{name: "default deny ingress in x",
			policies: []networkingv1.NetworkPolicy{policy("deny", sel(), types(ingressType))},
			port:     80, proto: tcp, want: allAllowed().set("", "x/", false)},
		{name: "implied Ingress type: an empty spec denies ingress",
			policies: []networkingv1.NetworkPolicy{policy("deny", sel(), func(*networkingv1.NetworkPolicySpec) {})},
			port:     80, proto: tcp, want: allAllowed().set("", "x/", false)},
		{name: "default deny ingress and egress in x",
			policies: []networkingv1.NetworkPolicy{policy("deny", sel(), types(ingressType, egressType))},
			port:     80, proto: tcp, want: allAllowed().set("", "x/", false).set("x/", "", false)},
		{name: "x/a allows x/b by podSelector",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("pod", "b")}}}))},
			port:     80, proto: tcp, want: allAllowed().set("", "x/a", false).set("x/b", "x/a", true)},
		{name: "deny all plus allow all to x/a from any namespace",
			policies: []networkingv1.NetworkPolicy{
				policy("deny", sel(), types(ingressType)),
				policy("allow", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel(), NamespaceSelector: sel()}}})),
			},
			port: 80, proto: tcp, want: allAllowed().set("", "x/", false).set("", "x/a", true)},
		{name: "namespaceSelector alone: only namespace y",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("ns", "y")}}}))},
			port:     80, proto: tcp, want: allAllowed().set("", "x/a", false).set("y/", "x/a", true)},
		{name: "two peers are a union: pod b of x, or any namespace but x",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{
				{NamespaceSelector: notIn("ns", "x")}, {PodSelector: sel("pod", "b")}}}))},
			port: 80, proto: tcp, want: allAllowed().set("x/a", "x/a", false).set("x/c", "x/a", false)},
		{name: "podSelector and namespaceSelector in one peer are an intersection",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{
				{NamespaceSelector: notIn("ns", "x"), PodSelector: sel("pod", "b")}}}))},
			port: 80, proto: tcp, want: allAllowed().set("", "x/a", false).set("y/b", "x/a", true).set("z/b", "x/a", true)},
		{name: "numeric port: 81 from y is allowed",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("ns", "y")}}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(81), &tcpP)}}))},
			port: 81, proto: tcp, want: allAllowed().set("", "x/a", false).set("y/", "x/a", true)},
		{name: "numeric port: 80 is then denied to everyone",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("ns", "y")}}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(81), &tcpP)}}))},
			port: 80, proto: tcp, want: allAllowed().set("", "x/a", false)},
		{name: "allow-all rule",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), ingress(networkingv1.NetworkPolicyIngressRule{}))},
			port:     81, proto: tcp, want: allAllowed()},
		{name: "named port serve-81-tcp admits 81",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-81-tcp"), nil)}}))},
			port:     81, proto: tcp, want: allAllowed()},
		{name: "named port serve-81-tcp does not admit 80",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-81-tcp"), nil)}}))},
			port:     80, proto: tcp, want: allAllowed().set("", "x/", false)},
		{name: "named port is protocol-aware: serve-81-udp with protocol TCP matches no container port",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-81-udp"), &tcpP)}}))},
			port:     81, proto: tcp, want: allAllowed().set("", "x/", false)},
		{name: "named port serve-81-udp with protocol UDP admits UDP 81",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-81-udp"), &udpP)}}))},
			port:     81, proto: udp, want: allAllowed()},
		{name: "allowing a protocol denies the others",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udpP}}}))},
			port:     80, proto: tcp, want: allAllowed().set("", "x/", false)},
		{name: "endPort range 80-90 admits 81",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr(intstr.FromInt32(80)), EndPort: &end}}}))},
			port:     81, proto: tcp, want: allAllowed()},
		{name: "egress allowed only on named port serve-80-tcp: 81 denied from x",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), both(types(egressType), egress(networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-80-tcp"), nil)}})))},
			port:     81, proto: tcp, want: allAllowed().set("x/", "", false)},
		{name: "egress allowed only on named port serve-80-tcp: 80 allowed",
			policies: []networkingv1.NetworkPolicy{policy("p", sel(), both(types(egressType), egress(networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-80-tcp"), nil)}})))},
			port:     80, proto: tcp, want: allAllowed()},
		{name: "egress-only policy leaves ingress open",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), both(types(egressType), egress(networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("ns", "y")}}})))},
			port:     80, proto: tcp, want: allAllowed().set("x/a", "", false).set("x/a", "y/", true)},
		{name: "egress rules without policyTypes imply both types",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), egress(networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("ns", "y")}}}))},
			port:     80, proto: tcp, want: allAllowed().set("x/a", "", false).set("x/a", "y/", true).set("", "x/a", false)},
		{name: "ipBlock with except: y's pods but y/b",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.1.0/24", Except: []string{"10.0.1.2/32"}}}}}))},
			port: 80, proto: tcp, want: allAllowed().set("", "x/a", false).set("y/", "x/a", true).set("y/b", "x/a", false)},
		{name: "egress ipBlock to z",
			policies: []networkingv1.NetworkPolicy{policy("p", sel("pod", "b"), both(types(egressType), egress(networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{
				{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.2.0/24"}}}})))},
			port: 80, proto: tcp, want: allAllowed().set("x/b", "", false).set("x/b", "z/", true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var wrong []string
			for _, from := range allPods() {
				for _, to := range allPods() {
					d := Evaluate(tc.policies, Conn{Src: modelPeer(from), Dst: modelPeer(to), Port: tc.port, Protocol: tc.proto})
					if want := tc.want[from][to]; (d.Verdict == Allowed) != want {
						wrong = append(wrong, fmt.Sprintf("%s -> %s: got %s, want allowed=%v", from, to, d.Verdict, want))
					}
				}
			}
			if len(wrong) > 0 {
				t.Errorf("%d of %d pairs wrong:\n%s", len(wrong), len(allPods())*len(allPods()), strings.Join(wrong, "\n"))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
