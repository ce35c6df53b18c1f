package rules

import (
	"net/netip"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// Chains and rules of kube-proxy's layout for one Service.
const (
	svc = "KUBE-SVC-S"
	st1 = "-A KUBE-SVC-S -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-1"
	st3 = "-A KUBE-SVC-S -j KUBE-SEP-3"
)

func TestLine(t *testing.T) {
	st := common.DefaultStyles(common.NewRenderer(nil, true))
	tests := []struct {
		name    string
		rule    dataplane.RuleLine
		share   Share
		current bool
		want    string
	}{
		{"plain", dataplane.RuleLine{Line: 61, Text: "-A X -j Y"}, Share{}, false, "      61 -A X -j Y"},
		{"generated rule has no line", dataplane.RuleLine{Text: "-A X -j Y"}, Share{}, false, "       - -A X -j Y"},
		{"share", dataplane.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, P: 0.5}, false, "       7 █████░░░░░  50.0% -j Y"},
		{"sticky, as wide as a share", dataplane.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, Sticky: true}, false, "       7 sticky            -j Y"},
		{"drift", dataplane.RuleLine{Line: 7, Text: "-j Y", Drift: "StaleEndpointChain"}, Share{}, false, "       7 ✘ StaleEndpointChain -j Y"},
		{"drift before the share, so a narrow screen shows it", dataplane.RuleLine{Line: 7, Text: "-j Y", Drift: "StaleEndpointChain"}, Share{Known: true, P: 0.5}, false,
			"       7 ✘ StaleEndpointChain █████░░░░░  50.0% -j Y"},
		{"current", dataplane.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, P: 1}, true, "▶      7 ██████████ 100.0% -j Y"},
		{"current sticky", dataplane.RuleLine{Line: 7, Text: "-j Y"}, Share{Known: true, Sticky: true}, true, "▶      7 sticky            -j Y"},
		{"cut to width", dataplane.RuleLine{Line: 7, Text: "-A KUBE-SVC-ODX2UBAZM7RQWOIU -j KUBE-SEP"}, Share{}, false, "       7 -A KUBE-SVC-ODX2…"},
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
	f := FlowOf(affinity())
	tests := []struct {
		name  string
		chain dataplane.Listing
		width int
		want  string
	}{
		{"one rule", dataplane.Listing{Table: "nat", Name: "OUTPUT", Rules: []dataplane.RuleLine{{Text: "-A OUTPUT -j KUBE-SERVICES"}}}, 80,
			"nat OUTPUT  1 rule"},
		{"no rules", dataplane.Listing{Name: "KUBE-SVC-A"}, 80, "KUBE-SVC-A  0 rules"},
		{"reached", dataplane.Listing{Table: "nat", Name: "KUBE-SEP-1"}, 80, "nat KUBE-SEP-1  0 rules  33.3% of packets"},
		{"reached by pinned clients only", dataplane.Listing{Table: "nat", Name: "KUBE-SEP-3"}, 80, "nat KUBE-SEP-3  0 rules  sticky: pinned clients only"},
		// A chain missing from the dump has nothing but its drift to show,
		// so the drift leads even when the name fills the line.
		{"drift leads", dataplane.Listing{Table: "nat", Name: "KUBE-SEP-7Y5M6KCUSGT5SOWG", Drift: "EndpointChainMissing"}, 40,
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

// TestRuleCount counts what the node has, not the lines listed only for
// their drift marks.
func TestRuleCount(t *testing.T) {
	tests := []struct {
		name  string
		rules []dataplane.RuleLine
		want  string
	}{
		{"one rule", []dataplane.RuleLine{{Text: "-A X -j Y"}}, "1 rule"},
		{"none", nil, "0 rules"},
		{"a missing rule is not the node's", []dataplane.RuleLine{{Text: "-A X -j Y"},
			{Text: "missing: dnat to 10.244.1.7:80", Kind: dataplane.LineMissing}}, "1 rule, 1 missing"},
		{"IPVS: its heading is not a real server", []dataplane.RuleLine{
			{Text: "virtual server 10.96.0.20:80/TCP scheduler rr", Kind: dataplane.LineHeading},
			{Text: "-> 10.244.1.10:8080 weight 1 Masq", Kind: dataplane.LineMember},
			{Text: "-> 10.244.1.11:8080 weight 1 Masq", Kind: dataplane.LineMember},
			{Text: "missing: -> 10.244.1.12:8080 (weight 1)", Kind: dataplane.LineMissing}},
			"2 real servers, 1 missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := tt.rules
			if got := RuleCount(rs); got != tt.want {
				t.Errorf("RuleCount = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPacketLabel(t *testing.T) {
	for _, tt := range []struct {
		pk   dataplane.Packet
		want string
	}{
		{dataplane.Packet{From: dataplane.EntryPod, Source: netip.MustParseAddr("10.244.1.9"), Dest: netip.MustParseAddr("10.96.0.150"), Port: 80, Protocol: "tcp", ServicePort: "default/hostnames"},
			"from pod 10.244.1.9 → 10.96.0.150:80/tcp (default/hostnames)"},
		{dataplane.Packet{From: dataplane.EntryNode, Source: netip.MustParseAddr("fd00::2"), Dest: netip.MustParseAddr("fd00:10:96::50"), Port: 443, Protocol: "tcp"},
			"from node fd00::2 → [fd00:10:96::50]:443/tcp"},
	} {
		if got := PacketLabel(tt.pk); got != tt.want {
			t.Errorf("PacketLabel = %q, want %q", got, tt.want)
		}
	}
}
