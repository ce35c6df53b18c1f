package expected

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func makeService(ns, name string, edit func(*corev1.Service)) *corev1.Service {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	edit(svc)
	return svc
}

// makeSlice names the slice "<service>-<n>" and labels it for the service,
// as EndpointSlice controllers do.
func makeSlice(ns, service string, n int, edit func(*discoveryv1.EndpointSlice)) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      fmt.Sprintf("%s-%d", service, n),
			Labels:    map[string]string{discoveryv1.LabelServiceName: service},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	edit(s)
	return s
}

func slicePort(name string, port int32, proto corev1.Protocol) []discoveryv1.EndpointPort {
	return []discoveryv1.EndpointPort{{Name: ptr(name), Port: ptr(port), Protocol: ptr(proto)}}
}

func servicePort(name string, port, nodePort int32) []corev1.ServicePort {
	return []corev1.ServicePort{{Name: name, Port: port, NodePort: nodePort, Protocol: corev1.ProtocolTCP}}
}

func addrs(ips ...string) []discoveryv1.Endpoint {
	out := make([]discoveryv1.Endpoint, len(ips))
	for i, ip := range ips {
		out[i].Addresses = []string{ip}
	}
	return out
}

// upstreamNode is the node NewFakeProxier in upstream proxier_test.go
// models: pod CIDR 10.0.0.0/8, node IP 192.168.0.2, nfacct counters present.
func upstreamNode() Node {
	return Node{
		Name:       "test-node",
		IPs:        []string{"192.168.0.2", "192.168.1.2", "192.168.99.11", "2001:db8::1", "2001:db8:1::2"},
		LocalMode:  LocalClusterCIDR,
		LocalValue: "10.0.0.0/8",
		NFAcct:     true,
	}
}
