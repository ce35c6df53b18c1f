package chains

import (
	"net/netip"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// TestJump checks which row a dataplane finding selects, by the place it
// carries, for every kind of dump, across views.
func TestJump(t *testing.T) {
	ipt := trace.DataplaneHop{Node: "node-1", Mode: "iptables", Chains: []dataplane.Listing{
		{Table: "nat", Name: "KUBE-SERVICES", Rules: []dataplane.RuleLine{{Line: 41, Text: "-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m udp --dport 53 -j KUBE-SVC-A",
			Where: dataplane.Locator{Mode: dataplane.ModeIPTables, Address: netip.MustParseAddr("10.96.0.10")}}}},
		{Table: "nat", Name: "KUBE-SVC-A", Rules: []dataplane.RuleLine{{Line: 60, Text: "-A KUBE-SVC-A -j KUBE-SEP-A"}}},
		{Table: "nat", Name: "KUBE-SEP-A", Rules: []dataplane.RuleLine{
			{Line: 70, Text: "-A KUBE-SEP-A -s 10.244.1.7/32 -j KUBE-MARK-MASQ"},
			{Line: 71, Text: "-A KUBE-SEP-A -p udp -j DNAT --to-destination 10.244.1.9:53", Drift: "DNATTargetMismatch"}}},
		{Table: "nat", Name: "KUBE-SEP-B", Drift: "EndpointChainMissing", Rules: []dataplane.RuleLine{}},
	}}
	element := dataplane.Locator{Mode: dataplane.ModeNFTables, Set: "service-ips", Element: []string{"10.96.0.10", "udp", "53"}}
	at := func(table, chain string, line int) *dataplane.Locator {
		return &dataplane.Locator{Mode: dataplane.ModeIPTables, Table: table, Chain: chain, Line: line}
	}
	nft := trace.DataplaneHop{Node: "node-2", Mode: "nftables", Chains: []dataplane.Listing{
		{Table: "ip kube-proxy", Name: "service-X-ns/dns/udp/dns", Rules: []dataplane.RuleLine{
			{Line: 3, Text: "numgen random mod 2 vmap { 0 : goto endpoint-1, 1 : goto endpoint-2 }"}}},
		{Table: "ip kube-proxy", Name: "endpoint-1", Rules: []dataplane.RuleLine{{Line: 5, Text: "meta l4proto udp dnat to 10.244.2.5:53"}}},
		{Table: "ip kube-proxy", Name: "endpoint-2", Rules: []dataplane.RuleLine{{Line: 7, Text: "meta l4proto udp dnat to 10.244.2.6:53",
			Where: dataplane.Locator{Mode: dataplane.ModeNFTables, Chain: "endpoint-2", Endpoint: netip.MustParseAddrPort("10.244.2.6:53")}}}},
		{Table: "ip kube-proxy", Name: "(set and map elements)", Rules: []dataplane.RuleLine{
			{Text: "service-ips { 10.96.0.10 . udp . 53 }: missing", Drift: "NFTServiceMissing", Where: element}}},
	}}
	h := &trace.Trace{Dataplane: []trace.DataplaneHop{ipt, nft}}
	tests := []struct {
		name    string
		finding trace.Finding
		// want is the chain and rule (-1: its header) selected.
		want    string
		wantRow int
		ok      bool
	}{
		{"iptables rule at the quoted line",
			trace.Finding{ID: "DNATTargetMismatch", Where: at("nat", "KUBE-SEP-A", 71)}, "KUBE-SEP-A", 1, true},
		{"iptables chain without a quoted line: its drifted rule",
			trace.Finding{ID: "DNATTargetMismatch", Where: at("nat", "KUBE-SEP-A", 0)}, "KUBE-SEP-A", 1, true},
		{"iptables chain: its header",
			trace.Finding{ID: "ProbabilityMismatch", Where: at("nat", "KUBE-SVC-A", 0)}, "KUBE-SVC-A", -1, true},
		{"chain missing from the dump, met by no walk",
			trace.Finding{ID: "EndpointChainMissing", Where: at("nat", "KUBE-SEP-B", 0)}, "KUBE-SEP-B", -1, true},
		{"another table's chain is not it",
			trace.Finding{ID: "X", Where: at("filter", "KUBE-SVC-A", 0)}, "", 0, false},
		{"conntrack entry: the rule for its VIP",
			trace.Finding{ID: "StaleConntrackEntry", Where: &dataplane.Locator{Mode: dataplane.ModeConntrack, Protocol: "udp",
				Service: netip.MustParseAddrPort("10.96.0.10:53"), Address: netip.MustParseAddr("10.244.0.5")}}, "KUBE-SERVICES", 0, true},
		{"nftables endpoint, in the other view",
			trace.Finding{ID: "NFTEndpointStale", Where: &dataplane.Locator{Mode: dataplane.ModeNFTables, Chain: "service-X-ns/dns/udp/dns", Endpoint: netip.MustParseAddrPort("10.244.2.6:53")}}, "endpoint-2", 0, true},
		{"nftables service chain",
			trace.Finding{ID: "NFTServiceMissing", Where: &dataplane.Locator{Mode: dataplane.ModeNFTables, Chain: "service-X-ns/dns/udp/dns"}}, "service-X-ns/dns/udp/dns", -1, true},
		{"nftables element",
			trace.Finding{ID: "NFTServiceMissing", Where: &element}, "(set and map elements)", 0, true},
		{"not a dataplane subject", trace.Finding{ID: "PodsNotReady", Subject: "pod/web-1"}, "", 0, false},
		{"nothing listed matches", trace.Finding{ID: "X", Where: &dataplane.Locator{Mode: dataplane.ModeIPVS, Chain: "10.96.0.10:53/UDP"}}, "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := common.Common{Width: 120, Height: 40, Styles: common.DefaultStyles(common.NewRenderer(nil, true)), KeyMap: common.DefaultKeyMap()}
			p := New(c, h)
			p.SetSize(120, 40)
			if got := p.Jump(tt.finding); got != tt.ok {
				t.Fatalf("Jump = %t, want %t", got, tt.ok)
			}
			i := p.list.Cursor()
			if !tt.ok {
				if p.choice != 0 || i != 0 {
					t.Errorf("a failed jump moved the screen to view %d row %d", p.choice, i)
				}
				return
			}
			r := p.rows[i]
			got := p.hop().Chains[r.chain].Name
			if got != tt.want || int(r.rule) != tt.wantRow {
				t.Errorf("selected %s rule %d, want %s rule %d", got, r.rule, tt.want, tt.wantRow)
			}
		})
	}
}
