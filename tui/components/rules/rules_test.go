package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
		want        Share
	}{
		{"KUBE-SVC-A", "-A KUBE-SVC-A -m statistic --mode random --probability 0.25 -j KUBE-SEP-A", Share{Known: true, P: 0.25}},
		// A prefix of another chain's name is not a jump to it.
		{"KUBE-SVC-A", "-A KUBE-SVC-A -j KUBE-SEP-AB", Share{Known: true, P: 0.75}},
		{"KUBE-SVC-A", "-A KUBE-SVC-A ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ", Share{}},
		{"services", `ip daddr 10.96.0.150 tcp dport 80 goto KUBE-SVC-A`, Share{}},
		{"KUBE-SERVICES", `-A KUBE-SERVICES -d 10.96.0.150/32 -j KUBE-SVC-A`, Share{Known: true, P: 1}},
	}
	for _, s := range shares {
		if got := f.Share(s.chain, s.text); got != s.want {
			t.Errorf("Share(%s, %q) = %+v, want %+v", s.chain, s.text, got, s.want)
		}
	}
}

// Chains of kube-proxy's ClientIP affinity layout for one Service.
const (
	svc = "KUBE-SVC-S"
	rc1 = "-A KUBE-SVC-S -m recent --name KUBE-SEP-1 --mask 255.255.255.255 --rsource --rcheck --seconds 600 --reap -j KUBE-SEP-1"
	st1 = "-A KUBE-SVC-S -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-1"
	st3 = "-A KUBE-SVC-S -j KUBE-SEP-3"
)

// out is an outcome through KUBE-SERVICES and chains, with the fields the
// trace sets along with each note: affinity's, or the note as the one
// assumption it states.
func out(p float64, note string, chains ...string) trace.Outcome {
	o := trace.Outcome{Verdict: "DNAT", Probability: p, Note: note, Chains: append([]string{"KUBE-SERVICES"}, chains...)}
	switch note {
	case pinned:
		o.Affinity, o.Assumptions = "sticky", []string{"the client has ClientIP affinity in recent list " + chains[len(chains)-1]}
	case fresh:
		o.Affinity = "fresh"
	case "":
	default:
		o.Assumptions = []string{note}
	}
	return o
}

// The notes the trace gives outcomes of a walk through affinity rules.
const (
	pinned = "for a client already pinned to this endpoint (ClientIP affinity)"
	fresh  = "for a client not pinned yet"
)

// TestFlowOfAlternatives: outcomes that are alternatives (a pinned client
// or a fresh one; either side of a match the walk could not evaluate) are
// not shares of one packet's fate, so no chain or jump exceeds 100%.
func TestFlowOfAlternatives(t *testing.T) {
	third := 1.0 / 3
	tests := []struct {
		name     string
		outcomes []trace.Outcome
		reach    map[string]float64
		sticky   []string
		shares   map[string]Share // rule text of KUBE-SVC-S → share
	}{
		{"affinity, one endpoint",
			[]trace.Outcome{out(1, pinned, svc, "KUBE-SEP-1"), out(1, fresh, svc, "KUBE-SEP-1")},
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": 1}, nil,
			map[string]Share{rc1: {Known: true, Sticky: true}, "-A KUBE-SVC-S -j KUBE-SEP-1": {Known: true, P: 1}}},
		{"affinity, three endpoints",
			[]trace.Outcome{
				out(1, pinned, svc, "KUBE-SEP-1"), out(1, pinned, svc, "KUBE-SEP-2"), out(1, pinned, svc, "KUBE-SEP-3"),
				out(third, fresh, svc, "KUBE-SEP-1"), out(third, fresh, svc, "KUBE-SEP-2"), out(third, fresh, svc, "KUBE-SEP-3"),
			},
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": third, "KUBE-SEP-2": third, "KUBE-SEP-3": third}, nil,
			map[string]Share{rc1: {Known: true, Sticky: true}, st1: {Known: true, P: third}, st3: {Known: true, P: third}}},
		// A stale endpoint chain still in the affinity rules but no longer
		// in the statistic ones: only pinned clients reach it.
		{"chain only pinned clients reach",
			[]trace.Outcome{out(1, pinned, svc, "KUBE-SEP-1"), out(1, pinned, svc, "KUBE-SEP-3"), out(1, fresh, svc, "KUBE-SEP-1")},
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": 1}, []string{"KUBE-SEP-3"},
			map[string]Share{st3: {Known: true, Sticky: true}, st1: {Known: true, P: 1}}},
		// Both sides of an unevaluable match each carry the whole packet.
		{"either side of an unevaluable match",
			[]trace.Outcome{
				out(1, "-m foo matches", "KUBE-MARK-DROP"),
				out(0.5, "-m foo does not match", svc, "KUBE-SEP-1"), out(0.5, "-m foo does not match", svc, "KUBE-SEP-3"),
			},
			map[string]float64{"KUBE-SERVICES": 1, "KUBE-MARK-DROP": 1, svc: 1, "KUBE-SEP-1": 0.5, "KUBE-SEP-3": 0.5}, nil,
			map[string]Share{st1: {Known: true, P: 0.5}}},
		// An outcome resting on no assumption happens whichever way the
		// match goes.
		{"unevaluable match on one endpoint's path",
			[]trace.Outcome{
				out(0.5, "", svc, "KUBE-SEP-1"),
				out(0.5, "-i eth0 matches", svc, "KUBE-SEP-2", "KUBE-MARK-DROP"), out(0.5, "-i eth0 does not match", svc, "KUBE-SEP-2"),
			},
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": 0.5, "KUBE-SEP-2": 0.5, "KUBE-MARK-DROP": 0.5}, nil, nil},
		// Affinity's notes hide other assumptions: the fresh outcomes of
		// both sides of a match share one note. They weigh alike.
		{"affinity and an unevaluable match",
			[]trace.Outcome{
				out(1, pinned, svc, "KUBE-SEP-1"),
				out(0.5, fresh, svc, "KUBE-SEP-1", "KUBE-MARK-DROP"), out(0.5, fresh, svc, "KUBE-SEP-3", "KUBE-MARK-DROP"),
				out(0.5, fresh, svc, "KUBE-SEP-1"), out(0.5, fresh, svc, "KUBE-SEP-3"),
			},
			map[string]float64{"KUBE-SERVICES": 1, svc: 1, "KUBE-SEP-1": 0.5, "KUBE-SEP-3": 0.5, "KUBE-MARK-DROP": 0.5}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := FlowOf(trace.PacketWalk{Outcomes: tt.outcomes})
			if diff := cmp.Diff(tt.reach, f.Reach, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("reach (-want +got):\n%s", diff)
			}
			var sticky []string
			for c := range f.Sticky {
				sticky = append(sticky, c)
			}
			if diff := cmp.Diff(tt.sticky, sticky); diff != "" {
				t.Errorf("sticky chains (-want +got):\n%s", diff)
			}
			for text, want := range tt.shares {
				if got := f.Share(svc, text); !cmp.Equal(got, want, cmpopts.EquateApprox(0, 1e-9)) {
					t.Errorf("Share(%q) = %+v, want %+v", text, got, want)
				}
			}
		})
	}
}

func TestLine(t *testing.T) {
	st := common.DefaultStyles(common.NewRenderer(nil, true))
	tests := []struct {
		name    string
		rule    trace.RuleLine
		share   Share
		current bool
		want    string
	}{
		{"plain", trace.RuleLine{Line: 61, Text: "-A X -j Y"}, Share{}, false, "      61 -A X -j Y"},
		{"generated rule has no line", trace.RuleLine{Text: "-A X -j Y"}, Share{}, false, "       - -A X -j Y"},
		{"share", trace.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, P: 0.5}, false, "       7 █████░░░░░  50.0% -j Y"},
		{"sticky, as wide as a share", trace.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, Sticky: true}, false, "       7 sticky            -j Y"},
		{"drift", trace.RuleLine{Line: 7, Text: "-j Y", Drift: "StaleEndpointChain"}, Share{}, false, "       7 ✘ StaleEndpointChain -j Y"},
		{"drift before the share, so a narrow screen shows it", trace.RuleLine{Line: 7, Text: "-j Y", Drift: "StaleEndpointChain"}, Share{Known: true, P: 0.5}, false,
			"       7 ✘ StaleEndpointChain █████░░░░░  50.0% -j Y"},
		{"current", trace.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, P: 1}, true, "▶      7 ██████████ 100.0% -j Y"},
		{"current sticky", trace.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, Sticky: true}, true, "▶      7 sticky            -j Y"},
		{"cut to width", trace.RuleLine{Line: 7, Text: "-A KUBE-SVC-ODX2UBAZM7RQWOIU -j KUBE-SEP"}, Share{}, false, "       7 -A KUBE-SVC-ODX2…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			width := 80
			if tt.name == "cut to width" {
				width = 26
			}
			if got := Line(st, tt.rule, tt.share, tt.current, width); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestHeader(t *testing.T) {
	st := common.DefaultStyles(common.NewRenderer(nil, true))
	f := FlowOf(trace.PacketWalk{Outcomes: []trace.Outcome{
		out(1, pinned, svc, "KUBE-SEP-3"), out(1.0/3, fresh, svc, "KUBE-SEP-1"), out(2.0/3, fresh, svc, "KUBE-SEP-2"),
	}})
	tests := []struct {
		name  string
		chain trace.ChainListing
		width int
		want  string
	}{
		{"one rule", trace.ChainListing{Table: "nat", Name: "OUTPUT", Rules: []trace.RuleLine{{Text: "-A OUTPUT -j KUBE-SERVICES"}}}, 80,
			"nat OUTPUT  1 rule"},
		{"no rules", trace.ChainListing{Name: "KUBE-SVC-A"}, 80, "KUBE-SVC-A  0 rules"},
		{"reached", trace.ChainListing{Table: "nat", Name: "KUBE-SEP-1"}, 80, "nat KUBE-SEP-1  0 rules  33.3% of packets"},
		{"reached by pinned clients only", trace.ChainListing{Table: "nat", Name: "KUBE-SEP-3"}, 80, "nat KUBE-SEP-3  0 rules  sticky: pinned clients only"},
		// A chain missing from the dump has nothing but its drift to show,
		// so the drift leads even when the name fills the line.
		{"drift leads", trace.ChainListing{Table: "nat", Name: "KUBE-SEP-7Y5M6KCUSGT5SOWG", Drift: "EndpointChainMissing"}, 40,
			"✘ drift EndpointChainMissing nat KUBE-S…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Header(st, tt.chain, f, tt.width); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
