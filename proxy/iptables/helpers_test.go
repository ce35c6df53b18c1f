package iptables

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

func ptr[T any](v T) *T { return &v }

// world is a small cluster: Services with a ClusterIP (and a NodePort when
// nodePort is set) and one EndpointSlice each.
type world struct {
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
}

func (w *world) add(name, ip string, nodePort int32, eps ...string) {
	w.services = append(w.services, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, NodePort: nodePort, Protocol: corev1.ProtocolTCP}},
		},
	})
	if nodePort != 0 {
		w.services[len(w.services)-1].Spec.Type = corev1.ServiceTypeNodePort
	}
	w.setEndpoints(name, eps...)
}

func (w *world) setEndpoints(name string, eps ...string) {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080)), Protocol: ptr(corev1.ProtocolTCP)}},
	}
	for _, ip := range eps {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}})
	}
	for i, old := range w.slices {
		if old.Name == s.Name {
			w.slices[i] = s
			return
		}
	}
	w.slices = append(w.slices, s)
}

var testNode = expected.Node{Name: "node-a", IPs: []string{"192.168.0.2"}, LocalMode: expected.LocalClusterCIDR, LocalValue: "10.244.0.0/16"}

func (w *world) desired(t testing.TB, l Layout) *Desired {
	t.Helper()
	rs, err := expected.Generate(testNode, w.services, w.slices)
	if err != nil {
		t.Fatal(err)
	}
	return Build(rs, l)
}

func threeServices() *world {
	w := &world{}
	w.add("web", "10.96.0.10", 30080, "10.244.1.1", "10.244.1.2", "10.244.2.3")
	w.add("api", "10.96.0.11", 0, "10.244.1.4")
	w.add("empty", "10.96.0.12", 0)
	return w
}

func mustSync(t *testing.T, p *Programmer, d *Desired, full bool) Result {
	t.Helper()
	res, err := p.Sync(t.Context(), d, full, false)
	if err != nil {
		t.Fatalf("sync: %v\ninput:\n%s", err, res.Input)
	}
	return res
}

func chainHash(name string) string {
	return expected.ChainNames(expected.PortName("ns", name, "http"), corev1.ProtocolTCP).Cluster[len("KUBE-SVC-"):]
}
