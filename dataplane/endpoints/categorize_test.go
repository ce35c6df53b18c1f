package endpoints

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// e builds an endpoint: state is "ready", "terminating" (serving) or
// "dead" (terminating, not serving); zones and nodes are its hints.
func e(addr string, local bool, state string, zones, nodes []string) *Endpoint {
	x := &Endpoint{AddrPort: netip.MustParseAddrPort(addr), Local: local}
	switch state {
	case "ready":
		x.Ready, x.Serving = true, true
	case "terminating":
		x.Serving, x.Terminating = true, true
	case "dead":
		x.Terminating = true
	}
	for _, z := range zones {
		if x.ZoneHints == nil {
			x.ZoneHints = map[string]bool{}
		}
		x.ZoneHints[z] = true
	}
	for _, n := range nodes {
		if x.NodeHints == nil {
			x.NodeHints = map[string]bool{}
		}
		x.NodeHints[n] = true
	}
	return x
}

func TestCategorize(t *testing.T) {
	cluster := Policy{UsesCluster: true, Node: "n1", Zone: "a"}
	local := Policy{UsesLocal: true, Node: "n1", Zone: "a"}
	both := Policy{UsesCluster: true, UsesLocal: true, Node: "n1", Zone: "a"}
	tests := []struct {
		name                      string
		eps                       []*Endpoint
		p                         Policy
		cluster, local, reachable []string
		any                       bool
		topo                      string
	}{
		{"ready ones only", []*Endpoint{e("10.0.0.1:80", false, "ready", nil, nil), e("10.0.0.2:80", false, "terminating", nil, nil)}, cluster,
			[]string{"10.0.0.1:80"}, []string{}, []string{"10.0.0.1:80"}, true, ""},
		{"serving terminating fallback", []*Endpoint{e("10.0.0.1:80", false, "dead", nil, nil), e("10.0.0.2:80", false, "terminating", nil, nil)}, cluster,
			[]string{"10.0.0.2:80"}, []string{}, []string{"10.0.0.2:80"}, true, ""},
		{"none usable", []*Endpoint{e("10.0.0.1:80", false, "dead", nil, nil)}, both,
			[]string{}, []string{}, []string{}, false, ""},
		{"zone hints for this zone", []*Endpoint{e("10.0.0.1:80", false, "ready", []string{"a"}, nil), e("10.0.0.2:80", false, "ready", []string{"b"}, nil)}, cluster,
			[]string{"10.0.0.1:80"}, []string{}, []string{"10.0.0.1:80"}, true, TopologySameZone},
		{"zone hints, none for this zone: ignored", []*Endpoint{e("10.0.0.1:80", false, "ready", []string{"b"}, nil), e("10.0.0.2:80", false, "ready", []string{"c"}, nil)}, cluster,
			[]string{"10.0.0.1:80", "10.0.0.2:80"}, []string{}, []string{"10.0.0.1:80", "10.0.0.2:80"}, true, ""},
		{"one ready endpoint without hints: ignored", []*Endpoint{e("10.0.0.1:80", false, "ready", []string{"a"}, nil), e("10.0.0.2:80", false, "ready", nil, nil)}, cluster,
			[]string{"10.0.0.1:80", "10.0.0.2:80"}, []string{}, []string{"10.0.0.1:80", "10.0.0.2:80"}, true, ""},
		{"node hints win over zone hints", []*Endpoint{e("10.0.0.1:80", true, "ready", []string{"a"}, []string{"n1"}), e("10.0.0.2:80", false, "ready", []string{"a"}, []string{"n2"})}, cluster,
			[]string{"10.0.0.1:80"}, []string{}, []string{"10.0.0.1:80"}, true, TopologySameNode},
		{"Local: this node's ready ones", []*Endpoint{e("10.0.0.1:80", true, "ready", nil, nil), e("10.0.0.2:80", false, "ready", nil, nil)}, local,
			[]string{}, []string{"10.0.0.1:80"}, []string{"10.0.0.1:80"}, true, ""},
		{"Local: none here, some elsewhere", []*Endpoint{e("10.0.0.2:80", false, "ready", nil, nil)}, local,
			[]string{}, []string{}, []string{}, true, ""},
		{"Local: terminating local fallback joins the cluster set", []*Endpoint{e("10.0.0.1:80", true, "terminating", nil, nil), e("10.0.0.2:80", false, "ready", nil, nil)}, both,
			[]string{"10.0.0.2:80"}, []string{"10.0.0.1:80"}, []string{"10.0.0.1:80", "10.0.0.2:80"}, true, ""},
		{"topology plus Local: the local endpoint outside the zone is reachable", []*Endpoint{e("10.0.0.1:80", true, "ready", []string{"b"}, nil), e("10.0.0.2:80", false, "ready", []string{"a"}, nil)}, both,
			[]string{"10.0.0.2:80"}, []string{"10.0.0.1:80"}, []string{"10.0.0.1:80", "10.0.0.2:80"}, true, TopologySameZone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Categorize(tt.eps, tt.p)
			got := []any{addrs(s.Cluster), addrs(s.Local), addrs(s.Reachable), s.Any, s.Topology}
			want := []any{tt.cluster, tt.local, tt.reachable, tt.any, tt.topo}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("cluster, local, reachable, any, topology (-want +got):\n%s", diff)
			}
		})
	}
}
