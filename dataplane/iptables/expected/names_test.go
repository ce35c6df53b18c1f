package expected

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestHash16(t *testing.T) {
	// Vectors from the project's kube-proxy reference; the chain names
	// also appear in upstream proxier_test.go dumps.
	tests := []struct{ in, want string }{
		{"ns1/svc1:p80tcp", "XPGD46QRK7WJZT7O"},
		{"ns1/svc1:p80tcp10.180.0.1:80", "SXIVWICOYRO3J4NJ"},
		{"default/kubernetes:httpstcp", "NPX46M4PTMTKRN6Y"},
		{"kube-system/kube-dns:dnsudp", "TCOU7JCQXEZGVUNU"},
	}
	for _, tc := range tests {
		if got := Hash16(tc.in); got != tc.want {
			t.Errorf("Hash16(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestChainNames(t *testing.T) {
	c := ChainNames(PortName("ns5", "svc5", "p80"), corev1.ProtocolTCP)
	want := Chains{Cluster: "KUBE-SVC-NUKIZ6OKUXPJNT4C", Local: "KUBE-SVL-NUKIZ6OKUXPJNT4C",
		External: "KUBE-EXT-NUKIZ6OKUXPJNT4C", Firewall: "KUBE-FW-NUKIZ6OKUXPJNT4C"}
	if c != want {
		t.Errorf("ChainNames = %+v, want %+v", c, want)
	}
	if got := EndpointChain("ns1/svc1:p80", corev1.ProtocolTCP, "10.180.0.1:80"); got != "KUBE-SEP-SXIVWICOYRO3J4NJ" {
		t.Errorf("EndpointChain = %s", got)
	}
	for _, tc := range []struct{ port, want string }{{"", "ns/web"}, {"http", "ns/web:http"}} {
		if got := PortName("ns", "web", tc.port); got != tc.want {
			t.Errorf("PortName(port %q) = %q, want %q", tc.port, got, tc.want)
		}
	}
}
