package netpol

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestAddressesAreMatchedByIPBlockOnly(t *testing.T) {
	allowY := policy("p", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{
		{NamespaceSelector: sel()}, {IPBlock: &networkingv1.IPBlock{CIDR: "192.168.0.0/16", Except: []string{"192.168.9.0/24"}}}}}))
	dst := modelPeer("x/a")
	for _, tc := range []struct {
		name string
		src  Peer
		want Verdict
	}{
		{"external address in the block", Peer{IP: "192.168.1.5"}, Allowed},
		{"external address in the except", Peer{IP: "192.168.9.5"}, Denied},
		{"another node, outside the block: a namespaceSelector {} does not match it", Peer{IP: "172.18.0.3", Node: "node-b"}, Denied},
		{"the pod's own node is always allowed", Peer{IP: "172.18.0.2", Node: "node-a"}, Allowed},
		{"an address not known", Peer{}, Denied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate([]networkingv1.NetworkPolicy{allowY}, Conn{Src: tc.src, Dst: dst, Port: 80, Protocol: tcp})
			if d.Verdict != tc.want {
				t.Errorf("got %s, want %s (%+v)", d.Verdict, tc.want, d)
			}
			if d.Egress.Applies {
				t.Errorf("an address has no egress policies, got %+v", d.Egress)
			}
		})
	}
}

func TestUnreadNamespaceLabels(t *testing.T) {
	byTeam := policy("team", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel("team", "web")}}}))
	byName := policy("name", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: sel(NamespaceNameLabel, "y")}}}))
	src := modelPeer("y/b")
	src.Pod.NamespaceLabels = nil
	for _, tc := range []struct {
		name string
		pol  networkingv1.NetworkPolicy
		want Verdict
	}{
		{"a selector on another label cannot be decided", byTeam, Unknown},
		{"a selector on the name label can", byName, Allowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate([]networkingv1.NetworkPolicy{tc.pol}, Conn{Src: src, Dst: modelPeer("x/a"), Port: 80, Protocol: tcp})
			if d.Verdict != tc.want {
				t.Errorf("got %s, want %s", d.Verdict, tc.want)
			}
		})
	}
}

func TestDecisionNamesPoliciesAndRules(t *testing.T) {
	policies := []networkingv1.NetworkPolicy{
		policy("deny", sel(), types(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)),
		policy("web", sel("pod", "a"), ingress(
			networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("pod", "c")}}},
			networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("pod", "b")}}},
		)),
		policy("out", sel("pod", "b"), both(types(networkingv1.PolicyTypeEgress), egress(networkingv1.NetworkPolicyEgressRule{
			Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-80-tcp"), nil)}}))),
	}
	d := Evaluate(policies, Conn{Src: modelPeer("x/b"), Dst: modelPeer("x/a"), Port: 80, Protocol: tcp})
	want := Decision{Verdict: Allowed,
		Ingress: Side{Verdict: Allowed, Applies: true, Selecting: []string{"x/deny", "x/web"}, Allowing: []Rule{{"x/web", Ingress, 1}}},
		Egress:  Side{Verdict: Allowed, Applies: true, Selecting: []string{"x/deny", "x/out"}, Allowing: []Rule{{"x/out", Egress, 0}}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got  %+v\nwant %+v", d, want)
	}
	d = Evaluate(policies, Conn{Src: modelPeer("x/b"), Dst: modelPeer("x/a"), Port: 81, Protocol: tcp})
	if d.Verdict != Denied || d.Ingress.Verdict != Allowed || d.Egress.Verdict != Denied {
		t.Errorf("port 81: the egress side alone should deny, got %+v", d)
	}
}

func TestAdmits(t *testing.T) {
	udpP := corev1.ProtocolUDP
	policies := []networkingv1.NetworkPolicy{
		policy("web", sel("pod", "a"), ingress(
			networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: sel("pod", "c")}}, Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(80), nil)}},
			networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(80), &udpP)}},
		)),
	}
	a := Admits(policies, modelPod("x", "a"), 80, tcp)
	if len(a.Selecting) != 1 || len(a.Rules) != 1 || a.Rules[0].Rule.Index != 0 || a.Rules[0].Namespace != "x" {
		t.Errorf("TCP 80: got %+v, want rule 0 of x/web", a)
	}
	if a := Admits(policies, modelPod("x", "a"), 81, tcp); len(a.Rules) != 0 || len(a.Selecting) != 1 {
		t.Errorf("TCP 81: got %+v, want isolated with no rule", a)
	}
	if a := Admits(policies, modelPod("x", "b"), 81, tcp); len(a.Selecting) != 0 {
		t.Errorf("x/b is not selected, got %+v", a)
	}
}

// Cases after policy-assistant's matcher tests: a protocol allowed alone
// denies the others, from pods and from addresses alike; an egress ipBlock
// matches a pod's address in another namespace, where podSelector {}
// (the policy's namespace only) does not; a named port admits an address.
func TestPolicyAssistantCases(t *testing.T) {
	sctp, udpP, tcpP := corev1.ProtocolSCTP, corev1.ProtocolUDP, corev1.ProtocolTCP
	sctpOnly := policy("sctp", sel(), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &sctp}}}))
	egressIPs := policy("egress-ips", sel("pod", "a"), both(types(networkingv1.PolicyTypeEgress), egress(
		networkingv1.NetworkPolicyEgressRule{
			Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(80), &tcpP)},
			To:    []networkingv1.NetworkPolicyPeer{{PodSelector: sel()}, {IPBlock: &networkingv1.IPBlock{CIDR: "192.168.242.213/24"}}}},
		networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromInt32(53), &udpP)}},
	)))
	namedPort := policy("named", sel("pod", "a"), ingress(networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-80-tcp"), &tcpP)}}))
	inY := func(ip string) Peer { p := modelPeer("y/b"); p.IP = ip; return p }
	for _, tc := range []struct {
		name   string
		policy networkingv1.NetworkPolicy
		conn   Conn
		want   Verdict
	}{
		{"SCTP only: TCP from a pod", sctpOnly, Conn{Src: modelPeer("y/a"), Dst: modelPeer("x/a"), Port: 103, Protocol: tcp}, Denied},
		{"SCTP only: SCTP from a pod", sctpOnly, Conn{Src: modelPeer("y/a"), Dst: modelPeer("x/a"), Port: 103, Protocol: sctp}, Allowed},
		{"SCTP only: TCP from an address", sctpOnly, Conn{Src: Peer{IP: "1.2.3.4"}, Dst: modelPeer("x/a"), Port: 103, Protocol: tcp}, Denied},
		{"SCTP only: SCTP from an address", sctpOnly, Conn{Src: Peer{IP: "1.2.3.4"}, Dst: modelPeer("x/a"), Port: 103, Protocol: sctp}, Allowed},
		{"egress to a pod of y inside the ipBlock", egressIPs, Conn{Src: modelPeer("x/a"), Dst: inY("192.168.242.249"), Port: 80, Protocol: tcp}, Allowed},
		{"egress to a pod of y outside the ipBlock", egressIPs, Conn{Src: modelPeer("x/a"), Dst: inY("10.0.1.2"), Port: 80, Protocol: tcp}, Denied},
		{"egress to a pod of x: podSelector {}", egressIPs, Conn{Src: modelPeer("x/a"), Dst: modelPeer("x/b"), Port: 80, Protocol: tcp}, Allowed},
		{"egress UDP 53 anywhere", egressIPs, Conn{Src: modelPeer("x/a"), Dst: Peer{IP: "8.8.8.8"}, Port: 53, Protocol: udp}, Allowed},
		{"egress TCP 53 is not UDP 53", egressIPs, Conn{Src: modelPeer("x/a"), Dst: Peer{IP: "8.8.8.8"}, Port: 53, Protocol: tcp}, Denied},
		{"a named port admits an address", namedPort, Conn{Src: Peer{IP: "1.2.3.4"}, Dst: modelPeer("x/a"), Port: 80, Protocol: tcp}, Allowed},
		{"a named egress port never matches an address", policy("named-out", sel("pod", "a"), both(types(networkingv1.PolicyTypeEgress), egress(networkingv1.NetworkPolicyEgressRule{
			Ports: []networkingv1.NetworkPolicyPort{port(intstr.FromString("serve-80-tcp"), nil)}}))),
			Conn{Src: modelPeer("x/a"), Dst: Peer{IP: "1.2.3.4"}, Port: 80, Protocol: tcp}, Denied},
		{"a policy of x does not isolate y's pods", sctpOnly, Conn{Src: modelPeer("x/a"), Dst: modelPeer("y/a"), Port: 80, Protocol: tcp}, Allowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := Evaluate([]networkingv1.NetworkPolicy{tc.policy}, tc.conn); d.Verdict != tc.want {
				t.Errorf("got %s, want %s (%+v)", d.Verdict, tc.want, d)
			}
		})
	}
}
