package expected

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func policyScenarios() []scenario {
	return []scenario{trafficPolicyScenario(), terminatingScenario(), topologyScenario(), noDetectorScenario()}
}

func withETPLocal(s *corev1.Service, t corev1.ServiceType) *corev1.Service {
	s.Spec.Type = t
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	return s
}

func withITPLocal(s *corev1.Service) *corev1.Service {
	s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
	return s
}

func httpSlice(ns, svc string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return slice(ns, svc, svc+"-1", eports(eport("http", corev1.ProtocolTCP, 8080)), eps...)
}

// trafficPolicyScenario covers externalTrafficPolicy and
// internalTrafficPolicy Local, with and without local endpoints.
func trafficPolicyScenario() scenario {
	http := func(np int32) corev1.ServicePort { return port("http", corev1.ProtocolTCP, 80, np) }
	lb := withETPLocal(clusterIP("edge", "lb-local", "10.96.30.1", http(30301)), corev1.ServiceTypeLoadBalancer)
	lb.Spec.HealthCheckNodePort = 32001
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.40"}}
	npRemote := withETPLocal(clusterIP("edge", "np-remote", "10.96.30.2", http(30302)), corev1.ServiceTypeNodePort)
	npRemote.Spec.ExternalIPs = []string{"198.51.100.30"}
	itp := withITPLocal(clusterIP("edge", "itp-local", "10.96.30.3", http(0)))
	itpRemote := withITPLocal(clusterIP("edge", "itp-remote", "10.96.30.4", http(0)))
	itpNP := withITPLocal(clusterIP("edge", "itp-nodeport", "10.96.30.5", http(30305)))
	itpNP.Spec.Type = corev1.ServiceTypeNodePort
	return scenario{name: "traffic-policy", node: kindNode(),
		services: []*corev1.Service{lb, npRemote, itp, itpRemote, itpNP},
		slices: []*discoveryv1.EndpointSlice{
			httpSlice("edge", "lb-local", ep("10.244.0.5", "node-a", "ready"), ep("10.244.1.5", "node-b", "ready"), ep("10.244.0.6", "node-a", "ready")),
			httpSlice("edge", "np-remote", ep("10.244.1.6", "node-b", "ready")),
			httpSlice("edge", "itp-local", ep("10.244.0.7", "node-a", "ready"), ep("10.244.1.7", "node-b", "ready")),
			httpSlice("edge", "itp-remote", ep("10.244.1.8", "node-b", "ready")),
			httpSlice("edge", "itp-nodeport", ep("10.244.0.9", "node-a", "ready"), ep("10.244.1.9", "node-b", "ready")),
		}}
}

// terminatingScenario covers the fallback to serving-terminating
// endpoints, chosen separately for Cluster and Local policy, and
// duplicate addresses across slices.
func terminatingScenario() scenario {
	http := port("http", corev1.ProtocolTCP, 80, 0)
	mixed := clusterIP("roll", "mixed", "10.96.40.1", http)
	allTerm := clusterIP("roll", "draining", "10.96.40.2", http)
	local := withETPLocal(clusterIP("roll", "local-drain", "10.96.40.3", port("http", corev1.ProtocolTCP, 80, 30403)), corev1.ServiceTypeNodePort)
	dup := clusterIP("roll", "moved", "10.96.40.4", http)
	return scenario{name: "terminating", node: kindNode(),
		services: []*corev1.Service{mixed, allTerm, local, dup},
		slices: []*discoveryv1.EndpointSlice{
			httpSlice("roll", "mixed", ep("10.244.1.11", "node-b", "ready"), ep("10.244.1.12", "node-b", "terminating")),
			httpSlice("roll", "draining", ep("10.244.1.13", "node-b", "terminating"),
				ep("10.244.0.13", "node-a", "terminating"), ep("10.244.1.14", "node-b", "gone")),
			httpSlice("roll", "local-drain", ep("10.244.1.15", "node-b", "ready"), ep("10.244.0.15", "node-a", "terminating")),
			httpSlice("roll", "moved", ep("10.244.1.16", "node-b", "terminating")),
			slice("roll", "moved", "moved-2", eports(eport("http", corev1.ProtocolTCP, 8080)),
				ep("10.244.1.16", "node-b", "ready"), ep("10.244.1.17", "node-b", "ready")),
		}}
}

// topologyScenario covers zone hints, including the merge of Cluster and
// Local endpoints when topology narrows the Cluster list.
func topologyScenario() scenario {
	zoned := func(ip, node, zone string) discoveryv1.Endpoint {
		e := ep(ip, node, "ready")
		e.Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: zone}}}
		return e
	}
	n := kindNode()
	n.Zone = "zone-a"
	svc := clusterIP("geo", "near", "10.96.50.1", port("http", corev1.ProtocolTCP, 80, 0))
	etp := withETPLocal(clusterIP("geo", "near-local", "10.96.50.2", port("http", corev1.ProtocolTCP, 80, 30502)), corev1.ServiceTypeNodePort)
	unhinted := clusterIP("geo", "partial", "10.96.50.3", port("http", corev1.ProtocolTCP, 80, 0))
	return scenario{name: "topology", node: n,
		services: []*corev1.Service{svc, etp, unhinted},
		slices: []*discoveryv1.EndpointSlice{
			httpSlice("geo", "near", zoned("10.244.1.21", "node-b", "zone-a"), zoned("10.244.2.21", "node-c", "zone-b")),
			httpSlice("geo", "near-local", zoned("10.244.1.22", "node-b", "zone-a"), zoned("10.244.0.22", "node-a", "zone-b")),
			httpSlice("geo", "partial", zoned("10.244.1.23", "node-b", "zone-a"), ep("10.244.2.23", "node-c", "ready")),
		}}
}

// noDetectorScenario runs without a local-traffic detector: no
// masquerade rule for cluster IPs and no pod short-circuit for Local.
func noDetectorScenario() scenario {
	n := kindNode()
	n.LocalMode, n.LocalValue = LocalNone, ""
	svc := clusterIP("plain", "web", "10.96.60.1", port("http", corev1.ProtocolTCP, 80, 0))
	lb := withETPLocal(clusterIP("plain", "lb", "10.96.60.2", port("http", corev1.ProtocolTCP, 80, 30602)), corev1.ServiceTypeLoadBalancer)
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.60"}}
	return scenario{name: "no-detector", node: n,
		services: []*corev1.Service{svc, lb},
		slices: []*discoveryv1.EndpointSlice{
			httpSlice("plain", "web", ep("10.244.1.31", "node-b", "ready")),
			httpSlice("plain", "lb", ep("10.244.0.32", "node-a", "ready")),
		}}
}

// nodeOptionsScenario changes every node-level setting at once.
func nodeOptionsScenario() scenario {
	bit := 5
	n := kindNode()
	n.LocalMode, n.LocalValue = LocalInterfaceNamePrefix, "veth"
	n.MasqueradeBit, n.MasqueradeAll, n.NoRandomFully = &bit, true, true
	n.NodePortAddresses = []string{"primary", "localhost"}
	n.IPs = append(n.IPs, "172.18.0.3")
	np := clusterIP("opt", "np", "10.96.70.1", port("http", corev1.ProtocolTCP, 80, 30701))
	np.Spec.Type = corev1.ServiceTypeNodePort
	np.Spec.ExternalIPs = []string{"198.51.100.70"}
	lb := withETPLocal(clusterIP("opt", "lb", "10.96.70.2", port("http", corev1.ProtocolTCP, 80, 30702)), corev1.ServiceTypeLoadBalancer)
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.70"}}
	return scenario{name: "node-options", node: n,
		services: []*corev1.Service{np, lb},
		slices: []*discoveryv1.EndpointSlice{
			httpSlice("opt", "np", ep("10.244.1.41", "node-b", "ready")),
			httpSlice("opt", "lb", ep("10.244.0.42", "node-a", "ready")),
		}}
}

// ipv6Scenario generates the IPv6 proxier of a dual-stack cluster.
func ipv6Scenario() scenario {
	n := kindNode()
	n.Family, n.LocalMode, n.LocalValue = corev1.IPv6Protocol, LocalBridgeInterface, "cni0"
	ds := makeService("v6", "dual", func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.80.1", []string{"10.96.80.1", "fd00:10:96::80:1"}
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
		s.Spec.Ports = []corev1.ServicePort{port("http", corev1.ProtocolTCP, 80, 30801)}
		s.Spec.ExternalIPs = []string{"198.51.100.80", "2001:db8::80"}
		s.Spec.LoadBalancerSourceRanges = []string{"2001:db8::/48", "203.0.113.0/24"}
		s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr[int32](10800)}}
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.80"}, {IP: "2001:db8:ffff::80"}}
	})
	v4only := clusterIP("v6", "legacy", "10.96.80.2", port("http", corev1.ProtocolTCP, 80, 0))
	empty := makeService("v6", "empty", func(s *corev1.Service) {
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "fd00:10:96::80:3", []string{"fd00:10:96::80:3"}
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
		s.Spec.Ports = []corev1.ServicePort{port("", corev1.ProtocolUDP, 53, 0)}
	})
	v6slice := slice("v6", "dual", "dual-v6", eports(eport("http", corev1.ProtocolTCP, 8080)),
		ep("fd00:10:244:1::5", "node-b", "ready"), ep("fd00:10:244::5", "node-a", "ready"))
	v6slice.AddressType = discoveryv1.AddressTypeIPv6
	return scenario{name: "ipv6", node: n,
		services: []*corev1.Service{ds, v4only, empty},
		slices: []*discoveryv1.EndpointSlice{v6slice,
			slice("v6", "dual", "dual-v4", eports(eport("http", corev1.ProtocolTCP, 8080)), ep("10.244.1.5", "node-b", "ready")),
		}}
}
