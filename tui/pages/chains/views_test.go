package chains

import (
	"net/netip"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// A chain the trace assigns to a port belongs to that port's views only,
// whatever its rules' text happens to contain; without the assignment the
// text decides.
func TestNamesPort(t *testing.T) {
	http := dataplane.Packet{ServicePort: "shop/web:http", Protocol: "tcp", Dest: netip.MustParseAddr("10.96.0.20"), Port: 80}
	metrics := dataplane.Packet{ServicePort: "shop/web:metrics", Protocol: "tcp", Dest: netip.MustParseAddr("10.96.0.20"), Port: 9090}
	tests := []struct {
		name  string
		chain dataplane.Listing
		pk    dataplane.Packet
		want  bool
	}{
		{"assigned to the packet's port", dataplane.Listing{Name: "KUBE-SVC-A", ServicePort: "shop/web:http"}, http, true},
		{"assigned to another port, though its text names this one",
			dataplane.Listing{Name: "KUBE-SEP-B", ServicePort: "shop/web:metrics", Rules: []dataplane.RuleLine{{Text: `-A KUBE-SEP-B -m comment --comment "shop/web:http"`}}}, http, false},
		{"unassigned: the comment decides", dataplane.Listing{Name: "KUBE-SEP-C", Rules: []dataplane.RuleLine{{Text: `-A KUBE-SEP-C -m comment --comment "shop/web:metrics" -j DNAT`}}}, metrics, true},
		{"unassigned, naming another port", dataplane.Listing{Name: "KUBE-SEP-C", Rules: []dataplane.RuleLine{{Text: `-A KUBE-SEP-C -m comment --comment "shop/web:metrics" -j DNAT`}}}, http, false},
	}
	for _, tt := range tests {
		if got := namesPort(tt.chain, tt.pk); got != tt.want {
			t.Errorf("%s: namesPort = %t, want %t", tt.name, got, tt.want)
		}
	}
}
