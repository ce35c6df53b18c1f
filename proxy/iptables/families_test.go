package iptables

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/kernel/iptables/iptablestest"
	"github.com/svctrace/kubectl-svctrace/proxy"
)

// dualStack is one RequireDualStack Service with an endpoint per family.
func dualStack() proxy.Objects {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10", "fd00:96::10"},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol},
			Ports:      []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	}
	slice := func(fam discoveryv1.AddressType, ip string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-" + strings.ToLower(string(fam)),
				Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: fam,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(8080)), Protocol: ptr(corev1.ProtocolTCP)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)}}},
		}
	}
	return proxy.Objects{Services: []*corev1.Service{svc},
		Slices: []*discoveryv1.EndpointSlice{slice(discoveryv1.AddressTypeIPv4, "10.244.1.2"), slice(discoveryv1.AddressTypeIPv6, "fd00:10:244:1::2")}}
}

func families() (Families, *iptablestest.Fake, *iptablestest.Fake) {
	v4, v6 := iptablestest.New(), iptablestest.New()
	n4, n6 := testNode, testNode
	n6.Family, n6.IPs, n6.LocalValue = corev1.IPv6Protocol, []string{"fd00::2"}, "fd00:10:244::/48"
	return Families{NewMode(v4, Scoped, n4), NewMode(v6, Scoped, n6)}, v4, v6
}

// TestFamiliesProgramEachFamilyApart: each family's addresses go to its
// own tables, a family whose restore fails is named and does not keep
// the other from syncing, and a dry run says which command each part is
// for.
func TestFamiliesProgramEachFamilyApart(t *testing.T) {
	f, v4, v6 := families()
	rep, err := f.Sync(t.Context(), dualStack(), false, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rep.Changes, "# IPv4: iptables-restore --noflush\n*") || !strings.Contains(rep.Changes, "# IPv6: ip6tables-restore --noflush\n*") {
		t.Errorf("dry run: want each family's input under a comment naming its command:\n%s", rep.Changes)
	}
	if v4.Dump() != iptablestest.New().Dump() || v6.Dump() != iptablestest.New().Dump() {
		t.Error("the dry run wrote rules")
	}

	v6.FailRestore = func(string) error { return errors.New("injected") }
	rep, err = f.Sync(t.Context(), dualStack(), false, false)
	if err == nil || !strings.Contains(err.Error(), "IPv6: ") || len(rep.FailedFamilies) != 0 {
		t.Fatalf("IPv6 restore failing: error %v, failed families %v; want the IPv6 family named in the error and no nftables failure", err, rep.FailedFamilies)
	}
	if d := v4.Dump(); !strings.Contains(d, "-d 10.96.0.10") || strings.Contains(d, "fd00") {
		t.Errorf("IPv4 tables, synced although IPv6 failed, want the IPv4 ClusterIP only:\n%s", d)
	}
	v6.FailRestore = nil
	rep, err = f.Sync(t.Context(), dualStack(), false, false)
	if err != nil || !strings.Contains(rep.Summary, "IPv4 partial sync") || !strings.Contains(rep.Summary, "IPv6 full sync") {
		t.Fatalf("after the failure: %v, summary %q; want IPv4 partial and IPv6 full", err, rep.Summary)
	}
	if d := v6.Dump(); !strings.Contains(d, "-d fd00:96::10 ") || !strings.Contains(d, "--to-destination [fd00:10:244:1::2]:8080") || strings.Contains(d, "10.96.0.10") {
		t.Errorf("IPv6 tables, want the IPv6 ClusterIP and endpoint only:\n%s", d)
	}

	rep, err = f.Cleanup(t.Context(), false)
	if err != nil || strings.Contains(v4.Dump()+v6.Dump(), expected.ServeLayout.Chain(expected.ChainServices)) {
		t.Errorf("cleanup: %v %q; rules left:\n%s\n%s", err, rep.Summary, v4.Dump(), v6.Dump())
	}
}
