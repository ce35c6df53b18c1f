package proxy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	model "github.com/svctrace/kubectl-svctrace/dataplane/conntrack"
	"github.com/svctrace/kubectl-svctrace/kernel/conntrack/conntracktest"
)

// udpService is a UDP Service (port dns, 53 → 5353, node port 30053
// when nodePort) with one EndpointSlice of the given endpoints, each
// address mapped to whether it serves.
func udpService(name, ip string, labels map[string]string, nodePort bool, eps map[string]bool) (*corev1.Service, *discoveryv1.EndpointSlice) {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: labels},
		Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip},
			Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}}}
	if nodePort {
		s.Spec.Type, s.Spec.Ports[0].NodePort = corev1.ServiceTypeNodePort, 30053
	}
	sliceLabels := map[string]string{discoveryv1.LabelServiceName: name}
	for k, v := range labels {
		sliceLabels[k] = v
	}
	sl := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name + "-1", Labels: sliceLabels},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("dns"), Port: ptr.To[int32](5353), Protocol: ptr.To(corev1.ProtocolUDP)}}}
	for addr, serving := range eps {
		sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{addr},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(serving), Serving: ptr.To(serving)}})
	}
	return s, sl
}

// TestStaleFlowsDeletesWhatKubeProxyDeletes checks the cleaner against
// kube-proxy's rule: a UDP entry to a served Service's address or node
// port whose reply comes from no serving endpoint goes; every other entry
// stays.
func TestStaleFlowsDeletesWhatKubeProxyDeletes(t *testing.T) {
	dns, dnsSlice := udpService("dns", "10.96.0.10", nil, true, map[string]bool{"10.244.1.7": true, "10.244.2.9": false})
	other, otherSlice := udpService("other", "10.96.0.20", map[string]string{dataplane.LabelServiceProxyName: "svctrace"}, false, map[string]bool{"10.244.1.8": true})
	objs := Objects{Services: []*corev1.Service{dns, other}, Slices: []*discoveryv1.EndpointSlice{dnsSlice, otherSlice}}
	keep := []string{
		"udp      17 118 src=10.244.0.5 dst=10.96.0.10 sport=41000 dport=53 src=10.244.1.7 dst=10.244.0.5 sport=5353 dport=41000 [ASSURED] mark=0 use=1",
		"tcp      6 299 ESTABLISHED src=10.244.0.5 dst=10.96.0.10 sport=41001 dport=53 src=10.244.3.3 dst=10.244.0.5 sport=5353 dport=41001 [ASSURED] mark=0 use=1",
		"udp      17 118 src=10.244.0.5 dst=10.96.0.20 sport=41002 dport=53 src=10.244.3.3 dst=10.244.0.5 sport=5353 dport=41002 [ASSURED] mark=0 use=1",
		"udp      17 118 src=10.244.0.5 dst=8.8.8.8 sport=41003 dport=53 src=8.8.8.8 dst=10.244.0.5 sport=53 dport=41003 [ASSURED] mark=0 use=1",
	}
	stale := []string{
		// the endpoint is gone
		"udp      17 118 src=10.244.0.5 dst=10.96.0.10 sport=42000 dport=53 src=10.244.3.3 dst=10.244.0.5 sport=5353 dport=42000 [ASSURED] mark=0 use=1",
		// the endpoint no longer serves
		"udp      17 118 src=10.244.0.5 dst=10.96.0.10 sport=42001 dport=53 src=10.244.2.9 dst=10.244.0.5 sport=5353 dport=42001 [ASSURED] mark=0 use=1",
		// made while the Service had no endpoints: never translated
		"udp      17 29 src=10.244.0.5 dst=10.96.0.10 sport=42002 dport=53 src=10.96.0.10 dst=10.244.0.5 sport=53 dport=42002 mark=0 use=1",
		// through the node port, to a gone endpoint
		"udp      17 118 src=192.168.1.50 dst=192.168.1.5 sport=42003 dport=30053 src=10.244.3.4 dst=192.168.1.5 sport=5353 dport=1024 [ASSURED] mark=0 use=1",
	}
	entries, err := model.Parse([]byte(strings.Join(append(append([]string{}, keep...), stale...), "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	ct := conntracktest.NewFake(entries...)
	n, err := (&StaleFlows{CT: ct}).Clean(t.Context(), objs, true)
	if err != nil || n != len(stale) {
		t.Errorf("Clean = %d, %v; want %d deleted", n, err, len(stale))
	}
	left, err := model.Parse([]byte(ct.Dump()))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != len(keep) {
		t.Errorf("left %d entries, want the %d to keep:\n%s", len(left), len(keep), ct.Dump())
	}
	for _, e := range left {
		if e.Original.SPort >= 42000 {
			t.Errorf("stale entry kept: %+v", e)
		}
	}

	// Scoped --serve cleans its own Service's flows only.
	n, err = (&StaleFlows{CT: ct, ProxyName: dataplane.ServeProxyName}).Clean(t.Context(), objs, true)
	if err != nil || n != 1 || strings.Contains(ct.Dump(), "10.96.0.20") {
		t.Errorf("scoped Clean = %d, %v; want other's stale flow deleted:\n%s", n, err, ct.Dump())
	}
}

// TestSyncCleansStaleFlows: the loop cleans after a sync that wrote, says
// so in the report, and leaves the table alone in a dry run.
func TestSyncCleansStaleFlows(t *testing.T) {
	dns, slice := udpService("dns", "10.96.0.10", nil, false, map[string]bool{"10.244.1.7": true})
	entries, err := model.Parse([]byte("udp      17 29 src=10.244.0.5 dst=10.96.0.10 sport=42002 dport=53 src=10.96.0.10 dst=10.244.0.5 sport=53 dport=42002 mark=0 use=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	ct := conntracktest.NewFake(entries...)
	l, _, _ := newTestLoop()
	l.Source = &fakeSource{objs: Objects{Services: []*corev1.Service{dns}, Slices: []*discoveryv1.EndpointSlice{slice}}}
	l.Flows = &StaleFlows{CT: ct}
	if _, err := l.SyncOnce(t.Context(), true, true); err != nil || ct.Dump() == "" {
		t.Fatalf("dry run: %v; the entry must stay:\n%s", err, ct.Dump())
	}
	rep, err := l.SyncOnce(t.Context(), true, false)
	if err != nil || ct.Dump() != "" || !strings.Contains(rep.Summary, "1 stale UDP conntrack entries deleted") {
		t.Errorf("sync: %v, summary %q; want the entry deleted and said:\n%s", err, rep.Summary, ct.Dump())
	}
}

// TestStaleFlowsListsOnlyWhenSomethingChanged: a partial sync after which
// the UDP targets are what the last listing saw does not list the table
// again; a change of serving endpoints or a full sync does.
func TestStaleFlowsListsOnlyWhenSomethingChanged(t *testing.T) {
	dns, slice := udpService("dns", "10.96.0.10", nil, false, map[string]bool{"10.244.1.7": true})
	objs := Objects{Services: []*corev1.Service{dns}, Slices: []*discoveryv1.EndpointSlice{slice}}
	ct := conntracktest.NewFake()
	s := &StaleFlows{CT: ct}
	if _, err := s.Clean(t.Context(), objs, true); err != nil {
		t.Fatal(err)
	}
	stale, err := model.Parse([]byte("udp      17 118 src=10.244.0.5 dst=10.96.0.10 sport=42000 dport=53 src=10.244.3.3 dst=10.244.0.5 sport=5353 dport=42000 [ASSURED] mark=0 use=1\n"))
	if err != nil {
		t.Fatal(err)
	}
	ct.Add(stale[0])
	if n, _ := s.Clean(t.Context(), objs, false); n != 0 {
		t.Errorf("partial sync, nothing changed: %d deleted, want the table not listed", n)
	}
	if n, _ := s.Clean(t.Context(), objs, true); n != 1 {
		t.Errorf("full sync: %d deleted, want 1", n)
	}
	ct.Add(stale[0])
	_, moved := udpService("dns", "10.96.0.10", nil, false, map[string]bool{"10.244.1.8": true})
	objs.Slices = []*discoveryv1.EndpointSlice{moved}
	if n, _ := s.Clean(t.Context(), objs, false); n != 1 {
		t.Errorf("partial sync after the endpoint moved: %d deleted, want 1", n)
	}

	// The Service goes, a client keeps sending to its address, and it
	// comes back as it was: that is a change too.
	if n, _ := s.Clean(t.Context(), Objects{}, false); n != 0 {
		t.Errorf("no UDP Service: %d deleted", n)
	}
	ct.Add(stale[0])
	if n, _ := s.Clean(t.Context(), objs, false); n != 1 {
		t.Errorf("partial sync after the Service came back: %d deleted, want 1", n)
	}
}
