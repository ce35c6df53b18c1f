// Package dataplanetest holds what every dataplane.Proxier's tests share:
// a Service with two endpoints, and the check that a node in sync with an
// expectation has no drift and balances the Service.
package dataplanetest

import (
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// EquateAddrs compares addresses as values in cmp.Diff.
var EquateAddrs = cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})

// Web is a ClusterIP Service with two ready endpoints.
func Web() dataplane.Objects {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}}}
	ready := true
	port, name, proto := int32(8080), "http", corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-1",
		Labels: map[string]string{discoveryv1.LabelServiceName: "web"}}, AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.1.10"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}},
			{Addresses: []string{"10.244.1.11"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}}}
	return dataplane.Objects{Services: []*corev1.Service{svc}, Slices: []*discoveryv1.EndpointSlice{slice}}
}

// Node is the node Web is expected on: it has no endpoint of Web.
var Node = dataplane.Node{Name: "node-1", IPs: []netip.Addr{netip.MustParseAddr("172.18.0.2")}, Family: corev1.IPv4Protocol,
	Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}}

// Pod is a pod's packet to Web's cluster IP.
var Pod = dataplane.Packet{Protocol: "tcp", Source: netip.MustParseAddr("10.244.2.9"), Dest: netip.MustParseAddr("10.96.0.20"), Port: 80,
	From: dataplane.EntryPod, ServicePort: "default/web:http"}

// CheckInSync checks that a node holding what m materializes has no drift
// and sends a pod's packet to both endpoints, half each.
func CheckInSync[W, G any](t *testing.T, m dataplane.Proxier[W, G]) {
	t.Helper()
	want, err := m.Expect(Node, Web())
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Materialize(want)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := m.Drift(want, got); len(diffs) != 0 {
		t.Errorf("%s: a node in sync drifts: %+v", m.Mode(), diffs)
	}
	w, err := m.Walk(want, got, Pod)
	if err != nil {
		t.Fatal(err)
	}
	shares := map[string]float64{}
	for _, o := range w.Outcomes {
		shares[o.Target] += o.Probability
	}
	for _, ep := range []string{"10.244.1.10:8080", "10.244.1.11:8080"} {
		if p := shares[ep]; p < 0.49 || p > 0.51 {
			t.Errorf("%s: %s gets %.3f of the packets, want 0.5; outcomes %+v", m.Mode(), ep, p, w.Outcomes)
		}
	}
	if len(m.Listings(want, got, nil)) == 0 {
		t.Errorf("%s: nothing listed", m.Mode())
	}
}

// CheckSkipsLabelled checks that m expects nothing for a Service kube-proxy
// skips (labelled service-proxy-name), and calls what a node holds for it
// in kube-proxy's names stale, and only that: a node holding the rules of
// another Service with the same endpoints (what kube-proxy writes for it,
// hairpin elements keyed by endpoint included) does not drift.
func CheckSkipsLabelled[W, G any](t *testing.T, m dataplane.Proxier[W, G]) {
	t.Helper()
	both := withWitness(Web())
	node, err := m.Materialize(mustExpect(t, m, both)) // rules for web and witness
	if err != nil {
		t.Fatal(err)
	}
	witnessOnly := withWitness(Web())
	witnessOnly.Services = witnessOnly.Services[1:]
	bare, err := m.Materialize(mustExpect(t, m, witnessOnly)) // no rules for web
	if err != nil {
		t.Fatal(err)
	}
	labelled := withWitness(Web())
	labelled.Services[0] = labelled.Services[0].DeepCopy()
	labelled.Services[0].Labels = map[string]string{dataplane.LabelServiceProxyName: "cilium"}
	want := mustExpect(t, m, labelled)
	diffs := m.Drift(want, node)
	if len(diffs) == 0 {
		t.Errorf("%s: kube-proxy's rules for a Service labelled %s are not reported", m.Mode(), dataplane.LabelServiceProxyName)
	}
	for _, d := range diffs {
		if d.Kind != dataplane.StaleProxyRules {
			t.Errorf("%s: labelled Service: %s at %+v, want only %s", m.Mode(), d.Kind, d.Where, dataplane.StaleProxyRules)
		}
	}
	if diffs := m.Drift(want, bare); len(diffs) != 0 {
		t.Errorf("%s: a node without rules for a Service kube-proxy skips drifts: %+v", m.Mode(), diffs)
	}
}

// withWitness adds Service witness, with Web's endpoints, to objs, and
// puts the endpoints on Node, so that what is keyed by endpoint (nftables'
// hairpin elements) is shared by both Services.
func withWitness(objs dataplane.Objects) dataplane.Objects {
	svc := objs.Services[0].DeepCopy()
	svc.Name, svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "witness", "10.96.0.21", []string{"10.96.0.21"}
	objs.Slices[0] = objs.Slices[0].DeepCopy()
	for i := range objs.Slices[0].Endpoints {
		objs.Slices[0].Endpoints[i].NodeName = &Node.Name
	}
	slice := objs.Slices[0].DeepCopy()
	slice.Name, slice.Labels = "witness-1", map[string]string{discoveryv1.LabelServiceName: "witness"}
	objs.Services = append(objs.Services, svc)
	objs.Slices = append(objs.Slices, slice)
	return objs
}

func mustExpect[W, G any](t *testing.T, m dataplane.Proxier[W, G], objs dataplane.Objects) W {
	t.Helper()
	w, err := m.Expect(Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// KnftablesObjects are the objects a knftables.Fake's table holds, in an
// order a transaction can add them: the table, its chains, sets and maps,
// then the chains' rules and the sets' and maps' elements.
func KnftablesObjects(ft *knftables.FakeTable) []knftables.Object {
	objs := []knftables.Object{&ft.Table}
	for _, n := range slices.Sorted(maps.Keys(ft.Chains)) {
		objs = append(objs, &ft.Chains[n].Chain)
	}
	for _, n := range slices.Sorted(maps.Keys(ft.Sets)) {
		objs = append(objs, &ft.Sets[n].Set)
	}
	for _, n := range slices.Sorted(maps.Keys(ft.Maps)) {
		objs = append(objs, &ft.Maps[n].Map)
	}
	for _, n := range slices.Sorted(maps.Keys(ft.Chains)) {
		for _, r := range ft.Chains[n].Rules {
			objs = append(objs, r)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(ft.Sets)) {
		for _, e := range ft.Sets[n].Elements {
			objs = append(objs, e)
		}
	}
	for _, n := range slices.Sorted(maps.Keys(ft.Maps)) {
		for _, e := range ft.Maps[n].Elements {
			objs = append(objs, e)
		}
	}
	return objs
}
