package ipvs

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

var (
	nodeA  = Node{Name: "node-a", IPs: []netip.Addr{netip.MustParseAddr("192.168.1.10"), netip.MustParseAddr("fd00:1::10")}}
	httpEP = []discoveryv1.EndpointPort{slicePortOf("http", corev1.ProtocolTCP, 8080)}
)

func twoNodeSlice(svc string, extra ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	eps := append([]discoveryv1.Endpoint{
		ep("10.244.1.7", "node-a", true, true, false),
		ep("10.244.2.8", "node-b", true, true, false),
	}, extra...)
	return slice(svc, discoveryv1.AddressTypeIPv4, httpEP, eps...)
}

func TestExpectedFor(t *testing.T) {
	type tc struct {
		name   string
		svc    *corev1.Service
		slices []*discoveryv1.EndpointSlice
		node   Node
	}
	web := func(typ corev1.ServiceType, edit func(*corev1.Service)) *corev1.Service {
		s := service("web", typ, []string{"10.96.0.10"}, port("http", corev1.ProtocolTCP, 80, 30080))
		if typ == corev1.ServiceTypeClusterIP {
			s.Spec.Ports[0].NodePort = 0
		}
		if edit != nil {
			edit(s)
		}
		return s
	}
	local := corev1.ServiceInternalTrafficPolicyLocal
	cases := []tc{
		{"clusterip", web(corev1.ServiceTypeClusterIP, nil), []*discoveryv1.EndpointSlice{twoNodeSlice("web")}, nodeA},
		{"clusterip-terminating", web(corev1.ServiceTypeClusterIP, nil),
			[]*discoveryv1.EndpointSlice{twoNodeSlice("web", ep("10.244.3.9", "node-b", false, true, true), ep("10.244.4.1", "node-b", false, false, false))}, nodeA},
		{"all-terminating-fallback", web(corev1.ServiceTypeClusterIP, nil),
			[]*discoveryv1.EndpointSlice{slice("web", discoveryv1.AddressTypeIPv4, httpEP, ep("10.244.3.9", "node-b", false, true, true), ep("10.244.3.10", "node-b", false, false, true))}, nodeA},
		{"affinity", web(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(3600))}}
		}), []*discoveryv1.EndpointSlice{twoNodeSlice("web")}, nodeA},
		{"nodeport-local", web(corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}), []*discoveryv1.EndpointSlice{twoNodeSlice("web")}, nodeA},
		{"nodeport-local-no-local-endpoints", web(corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}), []*discoveryv1.EndpointSlice{twoNodeSlice("web")}, Node{Name: "node-c", IPs: nodeA.IPs}},
		{"internal-local", web(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.InternalTrafficPolicy = &local
		}), []*discoveryv1.EndpointSlice{twoNodeSlice("web")}, nodeA},
		{"loadbalancer-externalip", web(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"203.0.113.5", "192.168.1.10"}
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
				{IP: "198.51.100.7"},
				{IP: "198.51.100.8", IPMode: ptr(corev1.LoadBalancerIPModeProxy)},
				{Hostname: "lb.example.com"},
			}
		}), []*discoveryv1.EndpointSlice{twoNodeSlice("web")}, nodeA},
		{"dual-stack-udp", func() *corev1.Service {
			s := service("dns", corev1.ServiceTypeClusterIP, []string{"10.96.0.53", "fd00:96::53"}, port("dns", corev1.ProtocolUDP, 53, 0))
			return s
		}(), []*discoveryv1.EndpointSlice{
			slice("dns", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{slicePortOf("dns", corev1.ProtocolUDP, 5353)},
				ep("10.244.1.7", "node-a", true, true, false), ep("10.244.3.9", "node-b", false, true, true)),
			slice("dns", discoveryv1.AddressTypeIPv6, []discoveryv1.EndpointPort{slicePortOf("dns", corev1.ProtocolUDP, 5353)},
				ep("fd00:244::7", "node-a", true, true, false)),
			slice("other", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{slicePortOf("dns", corev1.ProtocolUDP, 5353)},
				ep("10.244.9.9", "node-a", true, true, false)),
		}, nodeA},
		{"no-endpoints-mh", web(corev1.ServiceTypeClusterIP, nil), nil, Node{Name: "node-a", Scheduler: "mh"}},
		{"headless", web(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
		}), nil, nodeA},
		{"externalname", web(corev1.ServiceTypeExternalName, nil), nil, nodeA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp, err := ExpectedFor(c.svc, c.slices, c.node)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "expected-"+c.name+".golden", exp.String())
		})
	}
}

func TestExpectedForErrors(t *testing.T) {
	if _, err := ExpectedFor(nil, nil, Node{}); err == nil {
		t.Error("nil service: want error")
	}
	bad := service("web", corev1.ServiceTypeClusterIP, []string{"10.96.0.300"}, port("http", corev1.ProtocolTCP, 80, 0))
	if _, err := ExpectedFor(bad, nil, Node{}); err == nil {
		t.Error("bad cluster IP: want error")
	}
}

// With zone hints on every endpoint (trafficDistribution: PreferClose) a
// node in zone-a gets only the zone-a endpoints as real servers.
func TestExpectedForZoneHints(t *testing.T) {
	withZone := func(e discoveryv1.Endpoint, zone string) discoveryv1.Endpoint {
		e.Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: zone}}}
		return e
	}
	s := service("web", corev1.ServiceTypeClusterIP, []string{"10.96.0.10"}, port("http", corev1.ProtocolTCP, 80, 0))
	sl := slice("web", discoveryv1.AddressTypeIPv4, httpEP,
		withZone(ep("10.244.1.7", "node-a", true, true, false), "zone-a"),
		withZone(ep("10.244.2.8", "node-b", true, true, false), "zone-b"))
	for zone, want := range map[string][]string{"zone-a": {"10.244.1.7"}, "zone-c": {"10.244.1.7", "10.244.2.8"}} {
		exp, err := ExpectedFor(s, []*discoveryv1.EndpointSlice{sl}, Node{Name: "node-a", Zone: zone})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, rs := range exp.VirtualServers[0].RealServers {
			got = append(got, rs.Address.String())
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("node in %s: real servers (-want +got):\n%s", zone, diff)
		}
	}
}

// Whether a port uses cluster endpoints depends on what the port accepts
// from outside, not on the Service type: a LoadBalancer without node ports
// or an ingress yet, with internalTrafficPolicy Local, serves only local
// endpoints, so a node without one has no real servers.
func TestExpectedForPortAccessibility(t *testing.T) {
	local := corev1.ServiceInternalTrafficPolicyLocal
	s := service("web", corev1.ServiceTypeLoadBalancer, []string{"10.96.0.10"}, port("http", corev1.ProtocolTCP, 80, 0))
	s.Spec.AllocateLoadBalancerNodePorts = ptr(false)
	s.Spec.InternalTrafficPolicy = &local
	exp, err := ExpectedFor(s, []*discoveryv1.EndpointSlice{twoNodeSlice("web")}, Node{Name: "node-c"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(exp.VirtualServers); n != 1 {
		t.Fatalf("%d virtual servers, want the cluster IP's only", n)
	}
	if rs := exp.VirtualServers[0].RealServers; len(rs) != 0 {
		t.Errorf("real servers %v on a node without local endpoints, want none", rs)
	}
}
