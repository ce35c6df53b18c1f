package ipvs

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	model "github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/kernel/ipset/ipsettest"
	"github.com/svctrace/kubectl-svctrace/kernel/iptables/iptablestest"
	"github.com/svctrace/kubectl-svctrace/kernel/ipvs/ipvstest"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

func ptr[T any](v T) *T { return &v }

var nodeIP = netip.MustParseAddr("192.168.0.2")

// node is one node's kernel, faked, with a foreign canary virtual server
// on an address of its own.
type node struct {
	ipvs *ipvstest.Fake
	sets *ipsettest.Fake
	ipt  *iptablestest.Fake
	mode *Mode
}

var canary = model.VirtualServer{Address: netip.MustParseAddr("10.99.0.1"), Port: 80, Protocol: model.TCP, Scheduler: "wrr",
	RealServers: []model.RealServer{{Address: netip.MustParseAddr("10.99.1.1"), Port: 80, Weight: 1, Forward: model.Masquerade}}}

func newNode(t *testing.T, l Layout) *node {
	t.Helper()
	n := &node{ipvs: ipvstest.NewFake(model.Table{VirtualServers: []model.VirtualServer{canary}}), sets: ipsettest.NewFake(), ipt: iptablestest.New()}
	n.ipvs.Dummy = l.Interface
	local := func(context.Context) ([]netip.Addr, error) { return []netip.Addr{nodeIP}, nil }
	n.mode = NewMode(n.ipvs, n.sets, n.ipt, l, Settings{NodeName: "node-a", ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}, local)
	return n
}

func (n *node) sync(t *testing.T, objs proxy.Objects, full bool) proxy.Report {
	t.Helper()
	rep, err := n.mode.Sync(t.Context(), objs, full, false)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return rep
}

// world: web (NodePort 30080, TCP) over two endpoints, one on this node;
// sticky (ClientIP affinity, 600 s) over one; dns (UDP) over one; ext
// (external IP 203.0.113.5) over one.
func world() proxy.Objects {
	objs := proxy.Objects{Node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP.String()}}}}}
	add := func(name, ip string, port corev1.ServicePort, mutate func(*corev1.Service), eps ...string) {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip}, Ports: []corev1.ServicePort{port}}}
		if mutate != nil {
			mutate(svc)
		}
		objs.Services = append(objs.Services, svc)
		objs.Slices = append(objs.Slices, slice(name, port, eps...))
	}
	add("web", "10.96.0.10", corev1.ServicePort{Name: "http", Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP},
		func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }, "10.244.1.2@node-a", "10.244.2.2@node-b")
	add("sticky", "10.96.0.11", corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, func(s *corev1.Service) {
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(600))}}
	}, "10.244.3.2@node-b")
	add("dns", "10.96.0.12", corev1.ServicePort{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, nil, "10.244.4.2@node-b")
	add("ext", "10.96.0.13", corev1.ServicePort{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"203.0.113.5"} }, "10.244.5.2@node-b")
	return objs
}

// slice is the EndpointSlice of a one-port Service; endpoints are
// "ip@node", ready unless suffixed "!".
func slice(svc string, port corev1.ServicePort, eps ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: svc + "-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: ptr(port.Name), Port: ptr(int32(8000 + port.Port)), Protocol: ptr(port.Protocol)}}}
	for _, e := range eps {
		ready := e[len(e)-1] != '!'
		if !ready {
			e = e[:len(e)-1]
		}
		ip, nodeName, _ := strings.Cut(e, "@")
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: ptr(nodeName),
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready), Serving: ptr(ready), Terminating: ptr(!ready)}})
	}
	return s
}

// setEndpoints replaces a Service's endpoints.
func setEndpoints(objs *proxy.Objects, svc string, eps ...string) {
	for i, s := range objs.Slices {
		if s.Labels[discoveryv1.LabelServiceName] == svc {
			p := s.Ports[0]
			objs.Slices[i] = slice(svc, corev1.ServicePort{Name: *p.Name, Port: *p.Port - 8000, Protocol: *p.Protocol}, eps...)
		}
	}
}
