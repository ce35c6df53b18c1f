package expected

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// benchCluster builds n ClusterIP/NodePort services with perService ready
// endpoints each, a tenth of them on the local node.
func benchCluster(n, perService int) ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	svcs := make([]*corev1.Service, 0, n)
	slices := make([]*discoveryv1.EndpointSlice, 0, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("svc-%05d", i)
		svc := clusterIP("bench", name, fmt.Sprintf("10.96.%d.%d", i/256, i%256), port("http", corev1.ProtocolTCP, 80, 0))
		if i%4 == 0 {
			svc.Spec.Type = corev1.ServiceTypeNodePort
			svc.Spec.Ports[0].NodePort = int32(30000 + i%2768)
		}
		svcs = append(svcs, svc)
		eps := make([]discoveryv1.Endpoint, perService)
		for j := range eps {
			node := "node-b"
			if j == 0 {
				node = "node-a"
			}
			eps[j] = ep(fmt.Sprintf("10.%d.%d.%d", 100+j, i/256, i%256), node, "ready")
		}
		slices = append(slices, slice("bench", name, name+"-1", eports(eport("http", corev1.ProtocolTCP, 8080)), eps...))
	}
	return svcs, slices
}

// BenchmarkGenerate covers 10,000 Services with 10 endpoints each: the
// rule set and its restore-input text.
func BenchmarkGenerate(b *testing.B) {
	svcs, slices := benchCluster(10000, 10)
	node := kindNode()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rs, err := Generate(node, svcs, slices)
		if err != nil {
			b.Fatal(err)
		}
		if len(rs.RestoreInput()) == 0 {
			b.Fatal("empty restore input")
		}
	}
}

// BenchmarkSave measures the iptables-save normal form of the same cluster.
func BenchmarkSave(b *testing.B) {
	svcs, slices := benchCluster(10000, 10)
	rs, err := Generate(kindNode(), svcs, slices)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := rs.Save(); err != nil {
			b.Fatal(err)
		}
	}
}
