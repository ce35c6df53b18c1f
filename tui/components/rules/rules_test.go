package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
)

func TestFlowOf(t *testing.T) {
	w := trace.PacketWalk{Outcomes: []trace.Outcome{
		{Verdict: "DNAT", Target: "10.244.1.7:9376", Probability: 0.25, Chains: []string{"KUBE-SERVICES", "KUBE-SVC-A", "KUBE-SEP-A"}},
		{Verdict: "DNAT", Target: "10.244.1.8:9376", Probability: 0.75, Chains: []string{"KUBE-SERVICES", "KUBE-SVC-A", "KUBE-SEP-AB", "POSTROUTING"}},
	}}
	chains := []trace.ChainListing{
		{Name: "KUBE-SVC-A", Rules: []trace.RuleLine{{Text: `-A KUBE-SVC-A -m comment --comment "ns/svc -> 10.244.1.7:9376" -j KUBE-SEP-A`}}},
		{Name: "KUBE-SEP-A", Rules: []trace.RuleLine{{Text: "-A KUBE-SEP-A -p tcp -j DNAT --to-destination 10.244.1.7:9376"}}},
		{Name: "KUBE-SEP-AB", Rules: []trace.RuleLine{{Text: "-A KUBE-SEP-AB -p tcp -j DNAT --to-destination 10.244.1.8:9376"}}},
	}
	f := FlowOf(w)
	wantReach := map[string]float64{"KUBE-SERVICES": 1, "KUBE-SVC-A": 1, "KUBE-SEP-A": 0.25, "KUBE-SEP-AB": 0.75, "POSTROUTING": 0.75}
	if diff := cmp.Diff(wantReach, f.Reach); diff != "" {
		t.Errorf("reach (-want +got):\n%s", diff)
	}
	wantNext := map[string][]string{"KUBE-SERVICES": {"KUBE-SVC-A"}, "KUBE-SVC-A": {"KUBE-SEP-A", "KUBE-SEP-AB"}, "KUBE-SEP-AB": {"POSTROUTING"}}
	if diff := cmp.Diff(wantNext, f.Next); diff != "" {
		t.Errorf("next (-want +got):\n%s", diff)
	}
	// The Service chain names both targets in comments but DNATs to
	// neither; each endpoint chain DNATs to its own.
	wantTarget := map[string]string{"KUBE-SVC-A": "", "KUBE-SEP-A": "10.244.1.7:9376", "KUBE-SEP-AB": "10.244.1.8:9376"}
	for _, c := range chains {
		got, _ := f.Target(c)
		if got != wantTarget[c.Name] {
			t.Errorf("Target(%s) = %q, want %q", c.Name, got, wantTarget[c.Name])
		}
	}
	shares := []struct {
		chain, text string
		share       float64
		ok          bool
	}{
		{"KUBE-SVC-A", "-A KUBE-SVC-A -m statistic --mode random --probability 0.25 -j KUBE-SEP-A", 0.25, true},
		// A prefix of another chain's name is not a jump to it.
		{"KUBE-SVC-A", "-A KUBE-SVC-A -j KUBE-SEP-AB", 0.75, true},
		{"KUBE-SVC-A", "-A KUBE-SVC-A ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ", 0, false},
		{"services", `ip daddr 10.96.0.150 tcp dport 80 goto KUBE-SVC-A`, 0, false},
		{"KUBE-SERVICES", `-A KUBE-SERVICES -d 10.96.0.150/32 -j KUBE-SVC-A`, 1, true},
	}
	for _, s := range shares {
		got, ok := f.Share(s.chain, s.text)
		if got != s.share || ok != s.ok {
			t.Errorf("Share(%s, %q) = %v %t, want %v %t", s.chain, s.text, got, ok, s.share, s.ok)
		}
	}
}

func TestLine(t *testing.T) {
	st := common.DefaultStyles(common.NewRenderer(nil, true))
	tests := []struct {
		name     string
		rule     trace.RuleLine
		share    float64
		hasShare bool
		current  bool
		want     string
	}{
		{"plain", trace.RuleLine{Line: 61, Text: "-A X -j Y"}, 0, false, false, "      61 -A X -j Y"},
		{"generated rule has no line", trace.RuleLine{Text: "-A X -j Y"}, 0, false, false, "       - -A X -j Y"},
		{"share", trace.RuleLine{Line: 7, Text: "-j Y"}, 0.5, true, false, "       7 █████░░░░░  50.0% -j Y"},
		{"drift", trace.RuleLine{Line: 7, Text: "-j Y", Drift: "StaleEndpointChain"}, 0, false, false, "       7 ✘ StaleEndpointChain -j Y"},
		{"drift before the share, so a narrow screen shows it", trace.RuleLine{Line: 7, Text: "-j Y", Drift: "StaleEndpointChain"}, 0.5, true, false,
			"       7 ✘ StaleEndpointChain █████░░░░░  50.0% -j Y"},
		{"current", trace.RuleLine{Line: 7, Text: "-j Y"}, 1, true, true, "▶      7 ██████████ 100.0% -j Y"},
		{"cut to width", trace.RuleLine{Line: 7, Text: "-A KUBE-SVC-ODX2UBAZM7RQWOIU -j KUBE-SEP"}, 0, false, false, "       7 -A KUBE-SVC-ODX2…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			width := 80
			if tt.name == "cut to width" {
				width = 26
			}
			if got := Line(st, tt.rule, tt.share, tt.hasShare, tt.current, width); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	st := common.DefaultStyles(common.NewRenderer(nil, true))
	tests := []struct {
		name  string
		chain trace.ChainListing
		width int
		want  string
	}{
		{"one rule", trace.ChainListing{Table: "nat", Name: "OUTPUT", Rules: []trace.RuleLine{{Text: "-A OUTPUT -j KUBE-SERVICES"}}}, 80,
			"nat OUTPUT  1 rule"},
		{"no rules", trace.ChainListing{Name: "KUBE-SVC-A"}, 80, "KUBE-SVC-A  0 rules"},
		// A chain missing from the dump has nothing but its drift to show,
		// so the drift leads even when the name fills the line.
		{"drift leads", trace.ChainListing{Table: "nat", Name: "KUBE-SEP-7Y5M6KCUSGT5SOWG", Drift: "EndpointChainMissing"}, 40,
			"✘ drift EndpointChainMissing nat KUBE-S…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Header(st, tt.chain, Flow{}, tt.width); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
