package path

import (
	"testing"

	"github.com/svctrace/kubectl-svctrace/trace"
)

const name = "hostnames.default.svc.cluster.local"

// TestDNSRows: offline a row shows what the record should be and no mark;
// queried, the mark says whether the answer was right and the row shows
// the answer, plus what was expected when it was wrong.
func TestDNSRows(t *testing.T) {
	want := []string{"10.96.0.150"}
	tests := []struct {
		name  string
		check trace.DNSCheck
		label string
		state state
	}{
		{"offline", trace.DNSCheck{Expected: want},
			"A " + name + "  → 10.96.0.150", stateNone},
		{"answered right", trace.DNSCheck{Expected: want, Answered: want, Queried: true, OK: true},
			"A " + name + "  → 10.96.0.150", stateOK},
		{"answered wrong", trace.DNSCheck{Expected: want, Answered: []string{"10.96.0.1"}, Queried: true},
			"A " + name + "  → 10.96.0.1 (want 10.96.0.150)", stateBad},
		{"no answer", trace.DNSCheck{Expected: want, Queried: true},
			"A " + name + "  → nothing (want 10.96.0.150)", stateBad},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.check
			c.Name, c.Type = name, "A"
			root := &node{}
			dnsNode(root, &trace.DNSHop{Zone: "cluster.local", Checks: []trace.DNSCheck{c}})
			row := root.children[0].children[0]
			if row.label != tt.label || row.state != tt.state {
				t.Errorf("row %q state %d, want %q state %d", row.label, row.state, tt.label, tt.state)
			}
			// The row is drawn at depth 2 behind a cursor, branch and mark: 9 cells.
			if w := 9 + len([]rune(row.label)); w > 80 {
				t.Errorf("row is %d cells, more than 80", w)
			}
		})
	}
}

// TestReadyMarks: a group with some members not ready is marked ◐, not ✔.
func TestReadyMarks(t *testing.T) {
	pod := func(name string, ready bool) trace.PodHop {
		return trace.PodHop{Name: name, Phase: "Running", Ready: ready}
	}
	ep := func(addr string, ready bool) trace.EndpointHop {
		return trace.EndpointHop{Address: addr, Port: 9376, Ready: ready, Serving: ready, Slice: "s1"}
	}
	tests := []struct {
		name                  string
		pods                  []trace.PodHop
		eps                   []trace.EndpointHop
		podsState, sliceState state
	}{
		{"all ready", []trace.PodHop{pod("a", true), pod("b", true)}, []trace.EndpointHop{ep("10.0.0.1", true)}, stateOK, stateOK},
		{"some ready", []trace.PodHop{pod("a", true), pod("b", false)}, []trace.EndpointHop{ep("10.0.0.1", true), ep("10.0.0.2", false)}, stateWarn, stateWarn},
		{"none ready", []trace.PodHop{pod("a", false)}, []trace.EndpointHop{ep("10.0.0.2", false)}, stateBad, stateBad},
		{"no pods", nil, []trace.EndpointHop{ep("10.0.0.1", true)}, stateBad, stateOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &trace.Trace{Found: true, Pods: tt.pods, Slices: []trace.SliceHop{{Name: "s1"}},
				Ports: []trace.PortHop{{Port: 80, Protocol: "TCP", TargetPort: "9376", Endpoints: tt.eps}}}
			h.Service.Name, h.Service.Selector = "hostnames", map[string]string{"app": "hostnames"}
			root := build(h)
			pods := find(root, func(n *node) bool { return n.kind == kindPods })
			slice := find(root, func(n *node) bool { return n.kind == kindSlice })
			if pods.state != tt.podsState || slice.state != tt.sliceState {
				t.Errorf("pods %q state %d, slice %q state %d; want %d, %d", pods.label, pods.state, slice.label, slice.state, tt.podsState, tt.sliceState)
			}
		})
	}
}

// TestEndpointLabel: an IPv6 endpoint's address is bracketed, so its port
// does not read as the address's last group.
func TestEndpointLabel(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"10.244.1.7", "10.244.1.7:9376"},
		{"fd00:10:244::7", "[fd00:10:244::7]:9376"},
	} {
		root := &node{}
		endpointNode(root, &trace.Trace{}, 0, 0, trace.EndpointHop{Address: tt.addr, Port: 9376, Ready: true})
		if got := root.children[0].label; len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
			t.Errorf("label %q, want it to start with %q", got, tt.want)
		}
	}
}

// TestPolicyRows: the NetworkPolicy branch is ✘ when the client is denied
// an endpoint, ◐ when a port admits no client, and rows name the verdict.
func TestPolicyRows(t *testing.T) {
	denied := trace.PolicyConnection{Pod: "web-0", Address: "10.244.1.10", Port: 8080, Protocol: "TCP", Verdict: "denied"}
	for _, tt := range []struct {
		name  string
		hop   trace.NetworkPolicyHop
		state state
		row   string
	}{
		{"no client admitted", trace.NetworkPolicyHop{Pods: []trace.PolicyPod{{Pod: "web-0", Ports: []trace.PolicyPort{{Port: 8080, Protocol: "TCP"}}}}},
			stateWarn, "pod web-0 TCP 8080 admits no client"},
		{"client denied", trace.NetworkPolicyHop{Client: &trace.PolicyClient{Pod: "shop/batch-0", Connections: []trace.PolicyConnection{denied}}},
			stateBad, "from shop/batch-0 to web-0 10.244.1.10:8080: denied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := &node{}
			policyNode(root, &tt.hop)
			n := root.children[0]
			if n.state != tt.state || len(n.children) != 1 || n.children[0].label != tt.row {
				t.Errorf("state %d, rows %+v; want state %d and row %q", n.state, n.children, tt.state, tt.row)
			}
		})
	}
}
