package endpoints

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func ptr[T any](v T) *T { return &v }

func slice(name, svc string, family discoveryv1.AddressType, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: family,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(port), Protocol: ptr(corev1.ProtocolTCP)}},
		Endpoints:   eps,
	}
}

func ep(addr, node string, ready, terminating bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{addr},
		NodeName:   ptr(node),
		Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready), Serving: ptr(true), Terminating: ptr(terminating)},
	}
}

func addrs(eps []*Endpoint) []string {
	out := []string{}
	for _, e := range eps {
		out = append(out, e.String())
	}
	return out
}

func TestReadAll(t *testing.T) {
	in := []*discoveryv1.EndpointSlice{
		// A reused IP: the running pod wins over the terminating one,
		// whichever slice comes first.
		slice("web-b", "web", discoveryv1.AddressTypeIPv4, 8080, ep("10.0.0.10", "n1", false, true), ep("010.0.0.2", "n2", true, false)),
		slice("web-a", "web", discoveryv1.AddressTypeIPv4, 8080, ep("10.0.0.10", "n1", true, false), discoveryv1.Endpoint{}),
		slice("web-v6", "web", discoveryv1.AddressTypeIPv6, 8080, ep("fd00::1", "n1", true, false)),
		{ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "ns"}, AddressType: discoveryv1.AddressTypeIPv4,
			Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(1))}}, Endpoints: []discoveryv1.Endpoint{ep("10.9.9.9", "n1", true, false)}},
	}
	got := ReadAll(in, false, "n1")
	key := PortKey{"ns", "web", "http", corev1.ProtocolTCP}
	if len(got) != 1 {
		t.Fatalf("ReadAll returned %d ports, want 1 (unlabelled slice and other family ignored): %v", len(got), got)
	}
	if diff := cmp.Diff([]string{"10.0.0.10:8080", "10.0.0.2:8080"}, addrs(got[key])); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
	if e := got[key][0]; !e.Ready || e.Terminating || !e.Local {
		t.Errorf("10.0.0.10 = %+v, want the ready local copy", e)
	}
	v6 := ReadAll(in, true, "n1")[key]
	if diff := cmp.Diff([]string{"[fd00::1]:8080"}, addrs(v6)); diff != "" {
		t.Errorf("IPv6 endpoints (-want +got):\n%s", diff)
	}
}

func TestParseAddrSloppy(t *testing.T) {
	for in, want := range map[string]string{"010.001.0.9": "10.1.0.9", "::ffff:10.0.0.1": "10.0.0.1", "fd00::0001": "fd00::1"} {
		if a, ok := ParseAddrSloppy(in); !ok || a != netip.MustParseAddr(want) {
			t.Errorf("ParseAddrSloppy(%q) = %v, %v; want %s", in, a, ok, want)
		}
	}
	for _, bad := range []string{"", "10.0.0", "10.0.0.256", "fd00::g"} {
		if a, ok := ParseAddrSloppy(bad); ok {
			t.Errorf("ParseAddrSloppy(%q) = %v, want failure", bad, a)
		}
	}
}
