package expected

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// The objects below recreate the inputs of upstream proxier_test.go tests
// (kubernetes/kubernetes v1.37.2, pkg/proxy/iptables).

func overallServices() []*corev1.Service {
	return []*corev1.Service{
		makeService("ns1", "svc1", func(svc *corev1.Service) {
			svc.Spec.ClusterIP = "172.30.0.41"
			svc.Spec.Ports = servicePort("p80", 80, 0)
		}),
		makeService("ns2", "svc2", func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeLoadBalancer
			svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			svc.Spec.ClusterIP = "172.30.0.42"
			svc.Spec.Ports = servicePort("p80", 80, 3001)
			svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}
			svc.Spec.ExternalIPs = []string{"192.168.99.22"}
			svc.Spec.HealthCheckNodePort = 30000
		}),
		makeService("ns3", "svc3", func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeNodePort
			svc.Spec.ClusterIP = "172.30.0.43"
			svc.Spec.Ports = servicePort("p80", 80, 3003)
		}),
		makeService("ns4", "svc4", func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeNodePort
			svc.Spec.ClusterIP = "172.30.0.44"
			svc.Spec.ExternalIPs = []string{"192.168.99.33"}
			svc.Spec.Ports = servicePort("p80", 80, 0)
			svc.Spec.Ports[0].TargetPort = intstr.FromInt32(80)
		}),
		makeService("ns5", "svc5", func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeLoadBalancer
			svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
			svc.Spec.ClusterIP = "172.30.0.45"
			svc.Spec.Ports = servicePort("p80", 80, 3002)
			svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "5.6.7.8"}}
			svc.Spec.HealthCheckNodePort = 30000
			svc.Spec.LoadBalancerSourceRanges = []string{" 203.0.113.0/25"}
			svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr[int32](10800)},
			}
		}),
		makeService("ns6", "svc6", func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeClusterIP
			svc.Spec.ClusterIP = "172.30.0.46"
			svc.Spec.Ports = servicePort("p80", 80, 0)
		}),
	}
}

func overallSlices() []*discoveryv1.EndpointSlice {
	simple := func(ns, name, ip string) *discoveryv1.EndpointSlice {
		return makeSlice(ns, name, 1, func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = addrs(ip)
			s.Ports = slicePort("p80", 80, corev1.ProtocolTCP)
		})
	}
	return []*discoveryv1.EndpointSlice{
		simple("ns1", "svc1", "10.180.0.1"),
		// No nodeName: the endpoint is not local.
		simple("ns2", "svc2", "10.180.0.2"),
		simple("ns3", "svc3", "10.180.0.3"),
		makeSlice("ns4", "svc4", 1, func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = addrs("10.180.0.4", "10.180.0.5")
			s.Endpoints[1].NodeName = ptr("test-node")
			s.Ports = slicePort("p80", 80, corev1.ProtocolTCP)
		}),
		simple("ns5", "svc5", "10.180.0.3"),
	}
}

func repeatedServices() []*corev1.Service {
	return []*corev1.Service{
		makeService("ns1", "svc1", func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeClusterIP
			svc.Spec.ClusterIP = "172.30.0.41"
			svc.Spec.Ports = servicePort("p80", 80, 0)
		}),
		makeService("ns2", "svc2", func(svc *corev1.Service) {
			svc.Spec.Type = corev1.ServiceTypeClusterIP
			svc.Spec.ClusterIP = "172.30.0.42"
			svc.Spec.Ports = servicePort("p8080", 8080, 0)
		}),
	}
}

func repeatedSlices() []*discoveryv1.EndpointSlice {
	return []*discoveryv1.EndpointSlice{
		makeSlice("ns1", "svc1", 1, func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = addrs("10.0.1.1")
			s.Ports = slicePort("p80", 80, corev1.ProtocolTCP)
		}),
		makeSlice("ns2", "svc2", 1, func(s *discoveryv1.EndpointSlice) {
			s.Endpoints = addrs("10.0.2.1")
			s.Ports = slicePort("p8080", 8080, corev1.ProtocolTCP)
		}),
	}
}

// badIPServices carries addresses with leading zeros, which kube-proxy
// still accepts.
func badIPServices() []*corev1.Service {
	return []*corev1.Service{makeService("ns1", "svc1", func(svc *corev1.Service) {
		svc.Spec.Type = corev1.ServiceTypeLoadBalancer
		svc.Spec.ClusterIP = "172.30.0.041"
		svc.Spec.Ports = servicePort("p80", 80, 3001)
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "1.2.3.004"}}
		svc.Spec.ExternalIPs = []string{"192.168.099.022"}
		svc.Spec.LoadBalancerSourceRanges = []string{"203.0.113.000/025"}
	})}
}

func badIPSlices() []*discoveryv1.EndpointSlice {
	return []*discoveryv1.EndpointSlice{makeSlice("ns1", "svc1", 1, func(s *discoveryv1.EndpointSlice) {
		s.Endpoints = addrs("10.180.00.001")
		s.Ports = slicePort("p80", 80, corev1.ProtocolTCP)
	})}
}
