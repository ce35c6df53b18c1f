package nftables

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	p80 := PortName{Namespace: "ns1", Name: "svc1", Protocol: "tcp", Port: "p80"}
	long := PortName{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("s", 63), Protocol: "sctp", Port: strings.Repeat("p", 63)}
	tests := []struct {
		name, got, want string
	}{
		{"hash vector", H8("ns1/svc1/tcp/p80"), "ULMVA6XW"},
		{"endpoint hash vector", H8("ns1/svc1/tcp/p80__10.180.0.1/80"), "5OJB2KTY"},
		{"service chain", ServiceChain(p80), "service-ULMVA6XW-ns1/svc1/tcp/p80"},
		{"external chain", ExternalChain(PortName{"ns2", "svc2", "tcp", "p80"}), "external-42NFTM6N-ns2/svc2/tcp/p80"},
		{"firewall chain", FirewallChain(PortName{"ns5", "svc5", "tcp", "p80"}), "firewall-HVFWP5L3-ns5/svc5/tcp/p80"},
		{"endpoint chain", EndpointChain(p80, netip.MustParseAddrPort("10.180.0.1:80")), "endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80"},
		{"affinity set", AffinitySet(PortName{"ns5", "svc5", "tcp", "p80"}, netip.MustParseAddrPort("10.180.0.3:80")),
			"affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80"},
		{"ipv6 colons become dots", EndpointBase(p80, netip.MustParseAddrPort("[fd00:10:180::1]:80"))[9:], "ns1/svc1/tcp/p80__fd00.10.180..1/80"},
		{"unnamed port", PortName{"default", "kubernetes", "tcp", ""}.String(), "default/kubernetes/tcp/"},
		{"display named", p80.Display(), "ns1/svc1:p80"},
		{"display unnamed", PortName{"ns", "s", "tcp", ""}.Display(), "ns/s"},
		{"uppercase protocol lowered", PortName{"ns1", "svc1", "TCP", "p80"}.String(), "ns1/svc1/tcp/p80"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	// The longest possible endpoint name is cut to 240 characters with "...".
	b := EndpointBase(long, netip.MustParseAddrPort("[fd00:1111:2222:3333:4444:5555:6666:7777]:65535"))
	if len(b) != 240 || !strings.HasSuffix(b, "...") {
		t.Errorf("long endpoint base: len %d, %q", len(b), b[len(b)-10:])
	}
	if s := ServiceBase(long); len(s) != 8+1+len(long.String()) {
		t.Errorf("service base must never be cut, got len %d", len(s))
	}
}
