package fleet

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

func TestCompare(t *testing.T) {
	even := Distribution([]dataplane.Outcome{{Verdict: "DNAT", Target: "10.244.2.4:9376", Probability: 0.5}, {Verdict: "DNAT", Target: "10.244.1.5:9376", Probability: 0.5}})
	if even != "DNAT 10.244.1.5:9376 50%, DNAT 10.244.2.4:9376 50%" {
		t.Fatalf("Distribution sorted by target: %q", even)
	}
	rows := Compare([]Row{
		{Node: "node-a", Mode: "iptables", KubeProxy: "healthy", Distribution: even},
		{Node: "node-b", Mode: "iptables", KubeProxy: "healthy", Distribution: "DNAT 10.244.1.5:9376 100%", Drift: 1},
		{Node: "node-c", Mode: "nftables", KubeProxy: "healthy", Distribution: even},
		{Node: "node-d", Mode: "iptables", KubeProxy: "not running", Distribution: even},
		{Node: "node-e", Error: "forbidden"},
		{Node: "node-f", Mode: "iptables", KubeProxy: "healthy", Distribution: even},
	})
	var order []string
	for _, r := range rows {
		order = append(order, r.Node)
	}
	if got := strings.Join(order, " "); got != "node-b node-c node-d node-e node-a node-f" {
		t.Errorf("order %s: want disagreeing nodes first, each group by name", got)
	}
	why := map[string]string{}
	for _, r := range rows {
		why[r.Node] = strings.Join(r.Why, "; ")
	}
	for node, want := range map[string]string{
		"node-a": "", "node-b": "packets end elsewhere; 1 drift", "node-c": "mode nftables (most nodes: iptables)",
		"node-d": "kube-proxy not running", "node-e": "not read",
	} {
		if why[node] != want {
			t.Errorf("%s: why %q, want %q", node, why[node], want)
		}
	}
	if len(rows[1].Findings) != 1 || rows[1].Findings[0].ID != KubeProxyModeDiffers {
		t.Errorf("node-c findings: %+v", rows[1].Findings)
	}
}

// TestCompareTwoNodes: of two nodes whose packets end differently, only
// the one with a problem of its own disagrees; neither is the majority.
func TestCompareTwoNodes(t *testing.T) {
	rows := Compare([]Row{
		{Node: "node-1", Mode: "iptables", KubeProxy: "healthy", Distribution: "DNAT 10.244.2.4:9376 50%, DNAT 10.244.2.5:9376 50%"},
		{Node: "node-2", Mode: "iptables", KubeProxy: "healthy", Distribution: "DNAT 10.244.2.4:9376 100%", Drift: 2},
	})
	if rows[0].Node != "node-2" || !rows[0].Disagrees || strings.Join(rows[0].Why, "; ") != "2 drift" {
		t.Errorf("first row %s disagrees=%v why %q, want node-2 for its drift alone", rows[0].Node, rows[0].Disagrees, rows[0].Why)
	}
	if rows[1].Disagrees {
		t.Errorf("node-1 disagrees (%q) though only node-2 has a problem", rows[1].Why)
	}
}

func TestRender(t *testing.T) {
	sync := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	rows := Compare([]Row{{Node: "node-1", Mode: "iptables", KubeProxy: "healthy", LastSync: &sync, Distribution: "DNAT 10.244.1.5:9376 100%"},
		{Node: "node-2\x1b[31m", Error: "not allowed to create pods"}})
	var text bytes.Buffer
	if err := Text(&text, "default/hostnames", rows, sync.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{"NODE", "healthy, synced 1m30s ago", "error: not allowed to create pods", "DNAT 10.244.1.5:9376 100%"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("text passes a terminal escape through:\n%q", out)
	}
	var js bytes.Buffer
	if err := JSON(&js, "default/hostnames", rows); err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || doc.Kind != "NodeComparison" || len(doc.Nodes) != 2 || !doc.Nodes[0].Disagrees {
		t.Errorf("json: %v %+v", err, doc)
	}
}
