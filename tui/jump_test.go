package tui

import (
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// dnatMismatch is the hostnames trace over node-1's dump with the DNAT
// target of line 79 changed to a pod that is no endpoint.
func dnatMismatch(tb testing.TB) *trace.Trace {
	dump := editedDump(tb, "dumps/node-1.iptables-save", 79, func(l string) string {
		return regexp.MustCompile(`--to-destination [0-9.]+:`).ReplaceAllString(l, "--to-destination 10.244.1.99:")
	})
	return scenarioTrace(tb, "dumps/kubectl-get-all.yaml", "hostnames", nil, source.DumpPaths{IPTablesSave: dump})
}

// webIPVS is the web Service of healthy.yaml over an IPVS table with a
// stale and a missing real server, and a conntrack entry to the stale one.
func webIPVS(tb testing.TB) *trace.Trace {
	return scenarioTrace(tb, "scenarios/healthy.yaml", "web", nil,
		source.DumpPaths{IPVS: testdata("dumps/web.ipvs.txt"), Conntrack: testdata("dumps/web.conntrack.txt")})
}

// withMissingChain is the demo trace with a finding about an endpoint
// chain missing from the dump, listed empty and met by no walk.
func withMissingChain(tb testing.TB) *trace.Trace {
	t := fullTrace(tb)
	hop := &t.Dataplane[0]
	hop.Chains = append(hop.Chains, dataplane.Listing{Table: "nat", Name: "KUBE-SEP-MISSING", Drift: "EndpointChainMissing", Rules: []dataplane.RuleLine{}})
	t.Findings = append(t.Findings,
		trace.Finding{ID: "EndpointChainMissing", Severity: trace.SeverityError, Subject: "iptables/nat/KUBE-SEP-MISSING", Message: "chain missing",
			Where: &dataplane.Locator{Mode: dataplane.ModeIPTables, Table: "nat", Chain: "KUBE-SEP-MISSING"}},
		trace.Finding{ID: "ServiceChainMissing", Severity: trace.SeverityError, Subject: "iptables/nat/KUBE-SVC-NOWHERE", Message: "chain nowhere",
			Where: &dataplane.Locator{Mode: dataplane.ModeIPTables, Table: "nat", Chain: "KUBE-SVC-NOWHERE"}})
	return t
}

// TestFindingOpensItsRule: enter on a dataplane finding shows Chains with
// the cursor on the rule or chain the finding is about, in the view that
// lists it; others still go to Path.
func TestFindingOpensItsRule(t *testing.T) {
	tests := []struct {
		name  string
		trace func(testing.TB) *trace.Trace
		// query picks the finding on the Findings screen.
		query string
		// screen is where enter goes; selected the start of the row the
		// cursor is on, after the cursor mark; status the footer's note.
		screen   int
		selected string
		status   string
	}{
		{"DNAT target on the node's line 79", dnatMismatch, "DNATTargetMismatch", screenChains,
			"      79 ✘ DNATTargetMismatch ███░░░░░░░  33.3% -A KUBE-SEP-O5WZPWJXWTGE55GX -p tcp", ""},
		{"stale endpoint chain's quoted line", fullTraceWithStale, "StaleEndpointChain", screenChains, "      74 -A " + sep3, ""},
		{"stale IPVS real server", webIPVS, "IPVSStaleRealServer", screenChains, "       - ✘ IPVSStaleRealServer ███░░░░░░░  33.3% -> 10.244.1.99:8080", ""},
		{"missing IPVS real server", webIPVS, "IPVSRealServerMissing", screenChains, "       - ✘ IPVSRealServerMissing missing: -> 10.244.1.12:8080", ""},
		{"conntrack entry: the rules for its VIP", webIPVS, "StaleConntrackEntry", screenChains, "       - virtual server 10.96.0.20:80/TCP", ""},
		{"chain missing from the dump", withMissingChain, "EndpointChainMissing", screenChains, "✘ drift EndpointChainMissing nat KUBE-SEP-MISSING", ""},
		{"chain in no listing", withMissingChain, "ServiceChainMissing", screenChains, "nat PREROUTING", "iptables/nat/KUBE-SVC-NOWHERE is in no chain listed"},
		{"pod finding goes to Path", fullTrace, "PodsNotReady", screenPath, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, Config{Trace: tt.trace(t)})
			press(m, tea.WindowSizeMsg{Width: 200, Height: 40})
			press(m, keys("tab", "/", tt.query, "enter", "enter")...)
			if m.active != tt.screen {
				t.Fatalf("enter on %s opened screen %d, want %d:\n%s", tt.query, m.active, tt.screen, m.View())
			}
			if tt.screen != screenChains {
				return
			}
			view := m.View()
			if got := selectedRow(view); !strings.HasPrefix(got, tt.selected) {
				t.Errorf("selected row\n%q\nwant it to start with\n%q\nscreen:\n%s", got, tt.selected, view)
			}
			if !strings.Contains(m.status, tt.status) || (tt.status == "") != (m.status == "") {
				t.Errorf("status %q, want %q", m.status, tt.status)
			}
		})
	}
}

// fullTraceWithStale is the demo trace with the finding its stale
// endpoint chain gets, quoting the chain's DNAT rule.
func fullTraceWithStale(tb testing.TB) *trace.Trace {
	t := fullTrace(tb)
	t.Findings = append(t.Findings, trace.Finding{ID: "StaleEndpointChain", Severity: trace.SeverityWarning,
		Subject: "iptables/nat/" + sep3, Message: "stale endpoint chain; node has (line 74): -A " + sep3,
		Where: &dataplane.Locator{Mode: dataplane.ModeIPTables, Table: "nat", Chain: sep3, Line: 74}})
	return t
}

// selectedRow is the Chains row under the cursor, without the mark.
func selectedRow(view string) string {
	for _, l := range strings.Split(view, "\n") {
		if r, ok := strings.CutPrefix(l, "›"); ok {
			return r
		}
	}
	return ""
}

// TestEscReturnsFromChainsJump: esc on Chains opened from a finding goes
// back to Findings once the jumps followed since are retraced.
func TestEscReturnsFromChainsJump(t *testing.T) {
	open := keys("tab", "/", "StaleEndpointChain", "enter", "enter")
	tests := []struct {
		name string
		keys []tea.Msg
		want int
	}{
		{"esc goes back to findings", keys("esc"), screenFindings},
		{"a followed jump is retraced first", keys("g", "j", "j", "j", "j", "j", "enter", "esc"), screenChains},
		{"then back", keys("g", "j", "j", "j", "j", "j", "enter", "esc", "esc"), screenFindings},
		{"a filter is cleared first", keys("/", "x", "enter", "esc"), screenChains},
		{"not after moving on with tab", keys("tab", "shift+tab", "esc"), screenChains},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, Config{Trace: fullTraceWithStale(t)})
			press(m, open...)
			if m.active != screenChains {
				t.Fatalf("finding opened screen %d, want Chains", m.active)
			}
			press(m, tt.keys...)
			if m.active != tt.want {
				t.Errorf("active screen %d, want %d", m.active, tt.want)
			}
		})
	}
}

// TestFindingClearsChainsFilter: a filter left on Chains that hides the
// finding's rule is cleared by the jump.
func TestFindingClearsChainsFilter(t *testing.T) {
	m := testModel(t, Config{Trace: fullTraceWithStale(t)})
	press(m, keys("tab", "tab", "/", "PREROUTING", "enter", "shift+tab", "/", "StaleEndpointChain", "enter", "enter")...)
	if got, want := selectedRow(m.View()), "      74 -A "+sep3; !strings.HasPrefix(got, want) {
		t.Errorf("selected row %q, want it to start with %q:\n%s", got, want, m.View())
	}
	if strings.Contains(m.View(), "filter: PREROUTING") {
		t.Errorf("the Chains filter is still on:\n%s", m.View())
	}
}
