package tui

import (
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/fleet"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// twoNodes is --all-nodes over the demo Service: node-2's trace differs
// (a finding of its own), node-3 could not be read.
func twoNodes(t *testing.T) *Fleet {
	t.Helper()
	one, two := demoTrace(t), demoTrace(t)
	two.Findings = append(two.Findings, trace.Finding{ID: "EndpointChainMissing", Severity: trace.SeverityError, Subject: "iptables/nat/KUBE-SEP-X", Message: "chain KUBE-SEP-X is missing"})
	rows := fleet.Compare([]fleet.Row{
		{Node: "node-1", Mode: "iptables", KubeProxy: "healthy", Distribution: "DNAT 10.244.1.7:9376 100%"},
		{Node: "node-2", Mode: "iptables", KubeProxy: "healthy", Drift: 1, Distribution: "DNAT 10.244.1.7:9376 100%", Findings: two.Findings[len(two.Findings)-1:]},
		{Node: "node-3", Error: "agent pod refused"},
	})
	return &Fleet{Service: "default/hostnames", Rows: rows, Traces: map[string]*trace.Trace{"node-1": one, "node-2": two}, Shown: rows[0].Node}
}

// The Nodes screen opens first with the disagreeing nodes on top; enter
// shows a node's trace on the other screens, esc goes back, and a node
// that was not read says so.
func TestNodesScreen(t *testing.T) {
	f := twoNodes(t)
	m := testModel(t, Config{Trace: f.Traces[f.Shown], Fleet: f})
	if m.active != screenNodes {
		t.Fatalf("starts on screen %d, want Nodes", m.active)
	}
	view := m.View()
	for _, want := range []string{"Nodes 2/3", "default/hostnames on 3 nodes", "node-2", "drift 1", "not read"} {
		if !strings.Contains(view, want) {
			t.Errorf("Nodes screen lacks %q:\n%s", want, view)
		}
	}
	if strings.Index(view, "node-1 ") < strings.Index(view, "node-2 ") {
		t.Errorf("node-1, which agrees, is listed before node-2:\n%s", view)
	}
	// The rows: node-2 and node-3 disagree (sorted by name), then node-1.
	press(m, keys("enter")...)
	if m.active != screenPath || m.trace() != m.cfg.Fleet.Traces["node-2"] || !strings.Contains(m.status, "node-2") {
		t.Fatalf("enter on node-2: screen %d, status %q", m.active, m.status)
	}
	press(m, keys("esc")...)
	if m.active != screenNodes {
		t.Fatalf("esc from Path goes to screen %d, want Nodes", m.active)
	}
	press(m, keys("down", "enter")...)
	if m.active != screenNodes || !strings.Contains(m.status, "node-3 was not read") {
		t.Errorf("enter on node-3: screen %d, status %q", m.active, m.status)
	}
	if m.trace() != m.cfg.Fleet.Traces["node-2"] {
		t.Error("a node that was not read replaced the trace shown")
	}
}
