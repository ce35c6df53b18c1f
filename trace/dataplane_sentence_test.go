package trace

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// TestDiffDetailSentences: the sentences made from a difference's facts
// are the ones the modes wrote before they kept facts only.
func TestDiffDetailSentences(t *testing.T) {
	ipt := func(chain string) dataplane.Locator {
		return dataplane.Locator{Mode: dataplane.ModeIPTables, Table: "nat", Chain: chain}
	}
	vs := dataplane.Locator{Mode: dataplane.ModeIPVS, Chain: "10.96.0.10:80/TCP", Endpoint: netip.MustParseAddrPort("10.244.0.1:8080")}
	for _, tc := range []struct {
		d    dataplane.Diff
		want string
	}{
		{dataplane.Diff{Kind: iptables.ServiceChainMissing, Where: ipt("KUBE-SERVICES"), Service: "ns1/svc1:p80 cluster IP", WantTarget: "KUBE-SVC-XPGD46QRK7WJZT7O"},
			`KUBE-SERVICES has no rule sending "ns1/svc1:p80 cluster IP" to KUBE-SVC-XPGD46QRK7WJZT7O, so its packets are not load-balanced`},
		{dataplane.Diff{Kind: iptables.ServiceChainMissing, Where: ipt("KUBE-SVC-XPGD46QRK7WJZT7O"), Whole: true},
			"chain KUBE-SVC-XPGD46QRK7WJZT7O is missing; traffic matching the Service entry cannot be load-balanced"},
		{dataplane.Diff{Kind: iptables.ProbabilityMismatch, Where: ipt("KUBE-SVC-XPGD46QRK7WJZT7O"), Target: "KUBE-SEP-LXVODXWDISEETFEF", Share: 0.6666666665100001, WantShare: 0.33333333335000004},
			"endpoint chain KUBE-SEP-LXVODXWDISEETFEF gets 66.7% of new connections, want 33.3%"},
		{dataplane.Diff{Kind: iptables.StaleEndpointChain, Where: ipt("KUBE-SVC-XPGD46QRK7WJZT7O"), Target: "KUBE-SEP-STALE0000000000", TargetEndpoint: "10.180.9.9:80", Share: 0.16666666662750002},
			"16.7% of new connections go to KUBE-SEP-STALE0000000000 (endpoint 10.180.9.9:80), which is not a ready endpoint"},
		{dataplane.Diff{Kind: iptables.StaleEndpointChain, Where: ipt("KUBE-SEP-X"), Whole: true},
			"endpoint chain KUBE-SEP-X (DNAT to unknown) is not for a ready endpoint"},
		{dataplane.Diff{Kind: iptables.NoEndpointsRejectRule, Where: dataplane.Locator{Mode: dataplane.ModeIPTables, Table: "filter", Chain: "KUBE-SERVICES"}, Service: "ns2/svc2:p80 has no endpoints", WantTarget: "REJECT"},
			`REJECT rule for "ns2/svc2:p80 has no endpoints" is missing, so clients time out instead of being refused`},
		{dataplane.Diff{Kind: iptables.StaleServiceRule, Where: dataplane.Locator{Mode: dataplane.ModeIPTables, Table: "filter", Chain: "KUBE-SERVICES"}, Target: "REJECT"},
			"REJECT rule although the Service should be served; traffic is refused"},
		{dataplane.Diff{Kind: iptables.StaleServiceRule, Where: ipt("KUBE-SVC-XPGD46QRK7WJZT7O"), Target: "KUBE-MARK-MASQ"},
			"rule in KUBE-SVC-XPGD46QRK7WJZT7O that kube-proxy would not write"},
		{dataplane.Diff{Kind: iptables.ServicePortalsJumpMissing, Where: ipt("PREROUTING"), Whole: true, WantTarget: "KUBE-SERVICES"},
			"nat PREROUTING does not jump to KUBE-SERVICES; no Service rule is reached from pods or outside"},
		{dataplane.Diff{Kind: iptables.StaleProxyRules, Where: ipt("KUBE-EXT-XPGD46QRK7WJZT7O"), Whole: true},
			"chain for a Service kube-proxy should have no rules for; left by a stopped kube-proxy or one in another mode"},
		{dataplane.Diff{Kind: nftables.NFTEndpointMissing, Where: dataplane.Locator{Chain: "service-LAUZTJTB-ns4/svc4/tcp/p80"}, Service: "ns4/svc4:p80", Missing: []string{"1"}, Of: 2, Lost: 0.5},
			"service-LAUZTJTB-ns4/svc4/tcp/p80: numgen map has no element for 1 of 2 numgen values (1): 50% of new connections to ns4/svc4:p80 are not translated. Check kube-proxy's logs for sync errors."},
		{dataplane.Diff{Kind: nftables.NFTEndpointMissing, Where: dataplane.Locator{Chain: "service-2GFRSTKP-ns7/svc7/udp/dns"}, Service: "ns7/svc7:dns", Missing: []string{"1", "2"}, Of: 3, Lost: 2.0 / 3},
			"service-2GFRSTKP-ns7/svc7/udp/dns: numgen map has no element for 2 of 3 numgen values (1, 2): 66.7% of new connections to ns7/svc7:dns are not translated. Check kube-proxy's logs for sync errors."},
		{dataplane.Diff{Kind: nftables.NFTElementWrongTarget, Where: dataplane.Locator{Set: "service-ips"}, Service: "ns1/svc1:p80", Expected: "goto a", Actual: "goto b"},
			`service-ips sends ns1/svc1:p80 to "goto b" instead of "goto a"`},
		{dataplane.Diff{Kind: dataplane.StaleProxyRules, Where: dataplane.Locator{Mode: dataplane.ModeNFTables, Chain: "service-X-ns/web/tcp/http"}, Whole: true, Skipped: true, Service: "ns/web:http"},
			"chain service-X-ns/web/tcp/http of ns/web:http exists, but kube-proxy skips the Service (labelled service.kubernetes.io/service-proxy-name or service.kubernetes.io/headless)"},
		{dataplane.Diff{Kind: dataplane.StaleProxyRules, Where: ipt("KUBE-SVC-X"), Whole: true, Skipped: true},
			"rule or chain for a Service kube-proxy skips (labelled service.kubernetes.io/service-proxy-name or service.kubernetes.io/headless): left from before the label, or written by another proxy in kube-proxy's names"},
		{dataplane.Diff{Kind: ipvs.VirtualServerMissing, Where: vs, Service: "default/web:http", Role: "cluster IP"},
			"kube-proxy has not programmed default/web:http cluster IP 10.96.0.10:80/TCP: connections to it are not load-balanced; check kube-proxy's log and that it runs in ipvs mode"},
		{dataplane.Diff{Kind: ipvs.WeightMismatch, Where: vs, Weight: 1, WantWeight: 0},
			"real server 10.244.0.1:8080 of 10.96.0.10:80/TCP has weight 1, kube-proxy sets 0: a terminating endpoint still receives new connections"},
	} {
		if got := diffDetail(tc.d); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.d.Kind, got, tc.want)
		}
	}
}

// TestDiffMessageWords: where a difference holds no value, the message
// says in words what was expected and what the node has, as the modes
// wrote it before they kept values only.
func TestDiffMessageWords(t *testing.T) {
	nft := func(l dataplane.Locator) dataplane.Locator { l.Mode = dataplane.ModeNFTables; return l }
	vs := dataplane.Locator{Mode: dataplane.ModeIPVS, Chain: "10.96.0.10:80/TCP", Endpoint: netip.MustParseAddrPort("10.244.0.1:8080")}
	for _, tc := range []struct {
		d    dataplane.Diff
		want string // the message after the detail
	}{
		{dataplane.Diff{Kind: nftables.NFTServiceMissing, Where: nft(dataplane.Locator{Set: "service-ips"}), Expected: "goto service-X"}, "; expected: goto service-X; node has: absent"},
		{dataplane.Diff{Kind: nftables.NFTServiceMissing, Where: nft(dataplane.Locator{Chain: "service-X"}), Whole: true}, "; expected: present; node has: absent"},
		{dataplane.Diff{Kind: nftables.NFTElementMissing, Where: nft(dataplane.Locator{Set: "cluster-ips"})}, "; expected: present; node has: absent"},
		{dataplane.Diff{Kind: nftables.NFTElementStale, Where: nft(dataplane.Locator{Set: "no-endpoint-services"}), Actual: "goto reject-chain"}, "; expected: absent; node has: goto reject-chain"},
		{dataplane.Diff{Kind: nftables.NFTEndpointMissing, Where: nft(dataplane.Locator{Chain: "service-X", Endpoint: netip.MustParseAddrPort("10.0.0.1:80")})}, "; expected: dnat target of service-X; node has: absent"},
		{dataplane.Diff{Kind: nftables.NFTEndpointStale, Where: nft(dataplane.Locator{Chain: "service-X", Endpoint: netip.MustParseAddrPort("10.0.0.1:80")})}, "; expected: absent; node has: dnat target of service-X"},
		{dataplane.Diff{Kind: nftables.NFTEndpointMissing, Where: nft(dataplane.Locator{Chain: "service-X"}), Missing: []string{"1"}, Of: 2}, "; expected: a map element for each of 2 numgen values; node has: no element for 1"},
		{dataplane.Diff{Kind: dataplane.StaleProxyRules, Where: nft(dataplane.Locator{Chain: "service-X"}), Whole: true, Skipped: true}, "; expected: absent; node has: present"},
		{dataplane.Diff{Kind: ipvs.VirtualServerMissing, Where: vs, Service: "default/web:http", Role: "cluster IP"}, "; expected: virtual server for default/web:http cluster IP; node has: absent"},
		{dataplane.Diff{Kind: ipvs.RealServerMissing, Where: vs, WantWeight: 1}, "; expected: weight 1; node has: absent"},
		{dataplane.Diff{Kind: ipvs.StaleRealServer, Where: vs, Weight: 1}, "; expected: absent; node has: weight 1"},
		{dataplane.Diff{Kind: ipvs.WeightMismatch, Where: vs, Weight: 1}, "; expected: weight 0; node has: weight 1"},
		{dataplane.Diff{Kind: ipvs.AddressNotBound, Where: dataplane.Locator{Mode: dataplane.ModeIPVS, Address: netip.MustParseAddr("10.96.0.10")}}, "; expected: bound to kube-ipvs0; node has: not a local address"},
		{dataplane.Diff{Kind: iptables.ServiceRuleMissing, Where: dataplane.Locator{Mode: dataplane.ModeIPTables, Chain: "KUBE-SVC-X"}, Expected: "-A KUBE-SVC-X -j KUBE-MARK-MASQ"}, "; expected: -A KUBE-SVC-X -j KUBE-MARK-MASQ"},
	} {
		if got := strings.TrimPrefix(diffMessage(tc.d), diffDetail(tc.d)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.d.Kind, got, tc.want)
		}
	}
}
