package proxymode

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// web is a ClusterIP Service with two ready endpoints.
func web() dataplane.Objects {
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

var node = dataplane.Node{Name: "node-1", IPs: []netip.Addr{netip.MustParseAddr("172.18.0.2")}, Family: corev1.IPv4Protocol,
	Flags: dataplane.ProxyFlags{ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16")}}

var pod = dataplane.Packet{Protocol: "tcp", Source: netip.MustParseAddr("10.244.2.9"), Dest: netip.MustParseAddr("10.96.0.20"), Port: 80,
	From: dataplane.EntryPod, ServicePort: "default/web:http"}

// checkInSync checks that a node holding what m materializes has no drift
// and sends a pod's packet to both endpoints, half each.
func checkInSync[W, G any](t *testing.T, m dataplane.Proxier[W, G]) {
	t.Helper()
	want, err := m.Expect(node, web())
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
	w, err := m.Walk(want, got, pod)
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

func TestIPTablesInSync(t *testing.T) { checkInSync(t, IPTables{}) }
func TestIPVSInSync(t *testing.T)     { checkInSync(t, IPVS{}) }

// TestIPVSDriftLocatesTheRealServer: a real server the node lacks is
// located by its virtual server and address, and its listing line says it
// is missing.
func TestIPVSDriftLocatesTheRealServer(t *testing.T) {
	m := IPVS{}
	want, err := m.Expect(node, web())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.Materialize(want)
	vs := &got.Table.VirtualServers[0]
	vs.RealServers = vs.RealServers[:1]
	diffs := m.Drift(want, got)
	if len(diffs) != 1 || diffs[0].Kind != "IPVSRealServerMissing" || diffs[0].Where.Endpoint != netip.MustParseAddrPort("10.244.1.11:8080") ||
		diffs[0].Where.Service != netip.MustParseAddrPort("10.96.0.20:80") {
		t.Fatalf("drift %+v, want 10.244.1.11:8080 of 10.96.0.20:80 missing", diffs)
	}
	var missing []dataplane.RuleLine
	for _, l := range m.Listings(want, got, diffs) {
		for _, r := range l.Rules {
			if r.Kind == dataplane.LineMissing {
				missing = append(missing, r)
			}
		}
	}
	if len(missing) != 1 || missing[0].Where.Endpoint != diffs[0].Where.Endpoint {
		t.Errorf("missing lines %+v, want the one real server", missing)
	}
}

func TestNFTablesDoesNotMaterialize(t *testing.T) {
	want, err := NFTables{}.Expect(node, web())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (NFTables{}).Materialize(want); err == nil {
		t.Error("nftables materialized rules it does not model")
	}
}

// TestIPVSWithoutRealServersRefuses: a virtual server without real servers
// (no endpoints, or all draining) leaves the scheduler no destination and
// the kernel answers ICMP port unreachable, so the walk ends in REJECT.
func TestIPVSWithoutRealServersRefuses(t *testing.T) {
	m := IPVS{}
	want, err := m.Expect(node, web())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.Materialize(want)
	got.Table.VirtualServers[0].RealServers = nil
	w, err := m.Walk(want, got, pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Outcomes) != 1 || w.Outcomes[0].Verdict != dataplane.VerdictReject || w.Outcomes[0].Probability != 1 {
		t.Errorf("outcomes %+v, want one REJECT", w.Outcomes)
	}
}
