package expected

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// scenario is one cluster state to generate rules for. Scenarios feed the
// golden tests and the iptables round trip.
type scenario struct {
	name     string
	node     Node
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
}

// kindNode is a typical node: cluster CIDR detector, default settings.
func kindNode() Node {
	return Node{
		Name:       "node-a",
		IPs:        []string{"172.18.0.2", "fc00:f853:ccd:e793::2"},
		LocalMode:  LocalClusterCIDR,
		LocalValue: "10.244.0.0/16",
	}
}

func clusterIP(ns, name, ip string, ports ...corev1.ServicePort) *corev1.Service {
	return makeService(ns, name, func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeClusterIP
		s.Spec.ClusterIP = ip
		s.Spec.ClusterIPs = []string{ip}
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
		s.Spec.Ports = ports
	})
}

func port(name string, proto corev1.Protocol, p, nodePort int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: proto, Port: p, NodePort: nodePort}
}

// ep builds an endpoint; cond is "ready", "notready", "terminating"
// (serving and terminating), "gone" (neither) or "" (no conditions set).
func ep(ip, node, cond string) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}}
	if node != "" {
		e.NodeName = ptr(node)
	}
	switch cond {
	case "ready":
		e.Conditions = discoveryv1.EndpointConditions{Ready: ptr(true), Serving: ptr(true), Terminating: ptr(false)}
	case "notready":
		e.Conditions = discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(false), Terminating: ptr(false)}
	case "terminating":
		e.Conditions = discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(true), Terminating: ptr(true)}
	case "gone":
		e.Conditions = discoveryv1.EndpointConditions{Ready: ptr(false), Serving: ptr(false), Terminating: ptr(true)}
	}
	return e
}

func slice(ns, svc, name string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	s := makeSlice(ns, svc, 0, func(s *discoveryv1.EndpointSlice) { s.Ports, s.Endpoints = ports, eps })
	s.Name = name
	return s
}

func eport(name string, proto corev1.Protocol, p int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: ptr(name), Protocol: ptr(proto), Port: ptr(p)}
}

func eports(ps ...discoveryv1.EndpointPort) []discoveryv1.EndpointPort { return ps }

func scenarios() []scenario {
	return append(basicScenarios(), policyScenarios()...)
}

func basicScenarios() []scenario {
	web := clusterIP("default", "web", "10.96.0.10", port("", corev1.ProtocolTCP, 80, 0))
	webEPs := slice("default", "web", "web-abc", eports(eport("", corev1.ProtocolTCP, 8080)),
		ep("10.244.1.7", "node-b", "ready"), ep("10.244.2.3", "node-c", ""),
		ep("10.244.1.10", "node-a", "ready"), ep("10.244.3.4", "node-c", "notready"))
	multi := clusterIP("kube-system", "kube-dns", "10.96.0.10",
		port("dns", corev1.ProtocolUDP, 53, 0), port("dns-tcp", corev1.ProtocolTCP, 53, 0),
		port("metrics", corev1.ProtocolTCP, 9153, 0), port("sig", corev1.ProtocolSCTP, 9999, 0))
	multiEPs := slice("kube-system", "kube-dns", "kube-dns-x1",
		eports(eport("dns", corev1.ProtocolUDP, 53), eport("dns-tcp", corev1.ProtocolTCP, 53),
			eport("metrics", corev1.ProtocolTCP, 9153), eport("sig", corev1.ProtocolSCTP, 9999)),
		ep("10.244.0.2", "node-a", "ready"), ep("10.244.0.3", "node-a", "ready"))
	var many []discoveryv1.Endpoint
	for i := 1; i <= 7; i++ {
		many = append(many, ep(fmt.Sprintf("10.244.%d.5", i), "node-b", "ready"))
	}
	seven := clusterIP("shop", "cart", "10.96.44.1", port("http", corev1.ProtocolTCP, 80, 0))
	affinity := clusterIP("shop", "session", "10.96.44.2", port("http", corev1.ProtocolTCP, 80, 0))
	affinity.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	affinity.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr[int32](600)}}
	headless := clusterIP("shop", "db", corev1.ClusterIPNone, port("pg", corev1.ProtocolTCP, 5432, 0))
	extName := makeService("shop", "ext", func(s *corev1.Service) {
		s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "example.com"
	})
	return []scenario{
		{name: "clusterip", node: kindNode(),
			services: []*corev1.Service{web, multi, seven, affinity, headless, extName},
			slices: []*discoveryv1.EndpointSlice{webEPs, multiEPs,
				slice("shop", "cart", "cart-1", eports(eport("http", corev1.ProtocolTCP, 8080)), many...),
				slice("shop", "session", "session-1", eports(eport("http", corev1.ProtocolTCP, 8080)),
					ep("10.244.1.20", "node-b", "ready"), ep("10.244.2.20", "node-c", "ready")),
				slice("shop", "db", "db-1", eports(eport("pg", corev1.ProtocolTCP, 5432)), ep("10.244.1.30", "node-b", "ready")),
			}},
		externalScenario(),
		noEndpointsScenario(),
		nodeOptionsScenario(),
		ipv6Scenario(),
	}
}

// externalScenario covers NodePort, LoadBalancer with source ranges that
// include the node, external IPs and a proxy-mode ingress that is skipped.
func externalScenario() scenario {
	lb := clusterIP("prod", "api", "10.96.10.1", port("https", corev1.ProtocolTCP, 443, 30443))
	lb.Spec.Type = corev1.ServiceTypeLoadBalancer
	lb.Spec.ExternalIPs = []string{"198.51.100.7", "2001:db8::7"}
	lb.Spec.LoadBalancerSourceRanges = []string{"172.18.0.0/16", "203.0.113.0/24", "2001:db8::/32"}
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
		{IP: "192.0.2.10"}, {IP: "192.0.2.11", IPMode: ptr(corev1.LoadBalancerIPModeProxy)}, {Hostname: "lb.example"},
	}
	np := clusterIP("prod", "admin", "10.96.10.2", port("", corev1.ProtocolUDP, 9000, 31000))
	np.Spec.Type = corev1.ServiceTypeNodePort
	open := clusterIP("prod", "open", "10.96.10.3", port("http", corev1.ProtocolTCP, 80, 30080))
	open.Spec.Type = corev1.ServiceTypeLoadBalancer
	open.Spec.LoadBalancerSourceRanges = []string{"0.0.0.0/0", "10.0.0.0/8"}
	open.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.20"}}
	return scenario{name: "external", node: kindNode(),
		services: []*corev1.Service{lb, np, open},
		slices: []*discoveryv1.EndpointSlice{
			slice("prod", "api", "api-1", eports(eport("https", corev1.ProtocolTCP, 8443)),
				ep("10.244.1.2", "node-b", "ready"), ep("10.244.2.2", "node-c", "ready")),
			slice("prod", "admin", "admin-1", eports(eport("", corev1.ProtocolUDP, 9000)), ep("10.244.1.3", "node-b", "ready")),
			slice("prod", "open", "open-1", eports(eport("http", corev1.ProtocolTCP, 80)), ep("10.244.1.4", "node-b", "ready")),
		}}
}

// noEndpointsScenario covers REJECT rules for every address kind, and a
// service whose only endpoints are not ready or gone.
func noEndpointsScenario() scenario {
	lb := clusterIP("prod", "empty", "10.96.20.1", port("http", corev1.ProtocolTCP, 80, 30020))
	lb.Spec.Type = corev1.ServiceTypeLoadBalancer
	lb.Spec.ExternalIPs = []string{"198.51.100.20"}
	lb.Spec.LoadBalancerSourceRanges = []string{"203.0.113.0/24"}
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.30"}}
	unready := clusterIP("prod", "unready", "10.96.20.2", port("http", corev1.ProtocolTCP, 80, 0))
	return scenario{name: "no-endpoints", node: kindNode(),
		services: []*corev1.Service{lb, unready},
		slices: []*discoveryv1.EndpointSlice{
			slice("prod", "unready", "unready-1", eports(eport("http", corev1.ProtocolTCP, 80)),
				ep("10.244.1.5", "node-a", "notready"), ep("10.244.1.6", "node-a", "gone")),
		}}
}
