package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestChainsListsDriftedRules: a listing with a drifted rule and no walk
// through it shows, so that its finding opens its line: kube-ipvs0's
// addresses, where the VIP is missing.
func TestChainsListsDriftedRules(t *testing.T) {
	b, err := os.ReadFile(testdata("dumps/web.ip-addr.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, "10.96.0.20") {
			kept = append(kept, l)
		}
	}
	addrs := filepath.Join(t.TempDir(), "ip-addr.txt")
	if err := os.WriteFile(addrs, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := everyEntryTrace(t, "scenarios/healthy.yaml", "web", source.DumpPaths{IPVS: testdata("dumps/web.ipvs.txt"), IPVSAddrs: addrs})
	m := testModel(t, Config{Trace: tr})
	var f trace.Finding
	for _, x := range tr.Findings {
		if x.ID == "IPVSAddressNotBound" {
			f = x
		}
	}
	if f.ID == "" {
		t.Fatal("no IPVSAddressNotBound finding")
	}
	if !m.chainsPage().Jump(f) {
		t.Fatalf("the finding %s on %s opens no line", f.ID, f.Subject)
	}
	if v := m.chainsPage().View(); !strings.Contains(selectedRow(v), "not a local address") || !strings.Contains(v, "kube-ipvs0") {
		t.Errorf("kube-ipvs0 not listed:\n%s", v)
	}
}

// TestChainsDriftStaysWithItsPort: a drifted chain of one Service port,
// met by no walk, shows in that port's views only.
func TestChainsDriftStaysWithItsPort(t *testing.T) {
	tr := stickyTrace(t, 1)
	hop := &tr.Dataplane[0]
	hop.Chains = append(hop.Chains, dataplane.Listing{Table: "nat", Name: "KUBE-SEP-STALEHTTPS", Drift: "StaleEndpointChain",
		Rules: []dataplane.RuleLine{{Text: `-A KUBE-SEP-STALEHTTPS -p tcp -m comment --comment "default/sticky:https" -m tcp -j DNAT --to-destination 10.244.9.9:8443`}}})
	m := testModel(t, Config{Trace: tr})
	press(m, tea.WindowSizeMsg{Width: 200, Height: 60})
	press(m, keys("tab", "tab")...)
	seen := 0
	for range 8 {
		screen := m.View()
		head := strings.Split(screen, "\n")[1]
		press(m, keys("]")...)
		if !strings.Contains(head, "IPv4") {
			continue
		}
		seen++
		listed := strings.Contains(screen, "KUBE-SEP-STALEHTTPS")
		if want := strings.Contains(head, "port default/sticky:https "); listed != want {
			t.Errorf("view %q lists the https port's stale chain: %t, want %t", head, listed, want)
		}
	}
	if seen == 0 {
		t.Fatal("no IPv4 view")
	}
}

// TestChainsCursorKeepsItsRule: a reload that lists a chain above the
// selected rule leaves the cursor on that rule, not on its old row.
func TestChainsCursorKeepsItsRule(t *testing.T) {
	m := testModel(t, Config{})
	press(m, keys("tab", "tab", "G", "k")...)
	before := selectedRow(m.View())
	grown := fullTrace(t)
	grown.Dataplane[0].Chains = append([]dataplane.Listing{{Table: "nat", Name: "KUBE-SVC-NEWCHAIN", Drift: "StaleServiceChain",
		Rules: []dataplane.RuleLine{{Line: 1, Text: "-A KUBE-SVC-NEWCHAIN -j KUBE-SEP-NEW"}}}}, grown.Dataplane[0].Chains...)
	press(m, TraceMsgFor(grown))
	if after := selectedRow(m.View()); after != before {
		t.Errorf("selected %q after the reload, was %q", after, before)
	}
}
