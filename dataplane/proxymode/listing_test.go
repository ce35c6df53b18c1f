package proxymode

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

func TestMarkNFTDrift(t *testing.T) {
	svc := "service-X-ns/web/tcp/http"
	chains := []dataplane.Listing{{Name: svc, Rules: []dataplane.RuleLine{
		{Text: "ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade # handle 7"},
		{Text: "meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.1.7 . 9376, 1 : 10.244.2.99 . 9376 } # handle 8"},
	}}, {Name: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376", Rules: []dataplane.RuleLine{}}}
	missingEP := dataplane.Locator{Chain: svc, Endpoint: netip.MustParseAddrPort("10.244.2.5:9376")}
	element := dataplane.Locator{Set: "service-ips", Element: []string{"10.96.0.20", "tcp", "80"}}
	diffs := []dataplane.Diff{
		{Kind: nftables.NFTEndpointStale, Where: dataplane.Locator{Chain: svc, Endpoint: netip.MustParseAddrPort("10.244.2.99:9376")}, Expected: "absent", Actual: "dnat target of " + svc},
		{Kind: nftables.NFTEndpointMissing, Where: missingEP, Expected: "dnat target of " + svc, Actual: "absent"},
		{Kind: nftables.NFTEndpointMissing, Where: dataplane.Locator{Chain: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376"}, Expected: "present", Actual: "absent"},
		{Kind: nftables.NFTServiceMissing, Where: element, Expected: "goto " + svc, Actual: "absent", Detail: "no element"},
	}
	got := markNFTDrift(chains, diffs, "ip kube-proxy")
	want := []dataplane.Listing{{Name: svc, Rules: []dataplane.RuleLine{
		{Text: chains[0].Rules[0].Text},
		{Text: chains[0].Rules[1].Text, Drift: nftables.NFTEndpointStale},
		{Text: "missing: dnat to 10.244.2.5:9376", Drift: nftables.NFTEndpointMissing, Kind: dataplane.LineMissing, Where: missingEP},
	}}, {Name: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376", Rules: []dataplane.RuleLine{}, Drift: nftables.NFTEndpointMissing},
		{Table: "ip kube-proxy", Name: "(set and map elements)", Drift: nftables.NFTServiceMissing, Kind: dataplane.ListingElements, Rules: []dataplane.RuleLine{
			{Text: "service-ips { 10.96.0.20 . tcp . 80 }: no element; expected: goto " + svc + "; node has: absent", Drift: nftables.NFTServiceMissing, Where: element}}},
	}
	if diff := cmp.Diff(want, got, equateAddrs); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
}

func TestMarkIPVSDrift(t *testing.T) {
	vs := ipvs.VirtualServer{Address: netip.MustParseAddr("10.96.0.20"), Port: 80, Protocol: ipvs.TCP}
	rs := func(addr string) *ipvs.RealServer {
		return &ipvs.RealServer{Address: netip.MustParseAddr(addr), Port: 8080}
	}
	member := func(addr string) dataplane.RuleLine {
		return dataplane.RuleLine{Text: "-> " + addr + ":8080 weight 1 Masq", Kind: dataplane.LineMember, Where: ipvs.At(vs, rs(addr))}
	}
	heading := dataplane.RuleLine{Text: "virtual server 10.96.0.20:80/TCP scheduler rr", Kind: dataplane.LineHeading, Where: ipvs.At(vs, nil)}
	chains := []dataplane.Listing{{Name: "10.96.0.20:80/TCP", Rules: []dataplane.RuleLine{heading, member("10.244.1.10"), member("10.244.1.99")}}}
	nodePort := ipvs.VirtualServer{Address: netip.MustParseAddr("172.18.0.2"), Port: 30080, Protocol: ipvs.TCP}
	diffs := []dataplane.Diff{
		{Kind: ipvs.StaleRealServer, Where: ipvs.At(vs, rs("10.244.1.99"))},
		{Kind: ipvs.RealServerMissing, Where: ipvs.At(vs, rs("10.244.1.12")), Expected: "weight 1"},
		{Kind: ipvs.SchedulerMismatch, Where: ipvs.At(vs, nil)},
		{Kind: ipvs.VirtualServerMissing, Where: ipvs.At(nodePort, nil)},
		// Marked on the kube-ipvs0 listing by boundListing: no chain here.
		{Kind: ipvs.AddressNotBound, Where: dataplane.Locator{Mode: dataplane.ModeIPVS, Address: netip.MustParseAddr("10.96.0.20")}},
	}
	got := markIPVSDrift(chains, diffs)
	stale := member("10.244.1.99")
	stale.Drift = ipvs.StaleRealServer
	want := []dataplane.Listing{{Name: "10.96.0.20:80/TCP", Drift: ipvs.SchedulerMismatch, Rules: []dataplane.RuleLine{
		heading, member("10.244.1.10"), stale,
		{Text: "missing: -> 10.244.1.12:8080 (weight 1)", Drift: ipvs.RealServerMissing, Kind: dataplane.LineMissing, Where: ipvs.At(vs, rs("10.244.1.12"))},
	}}, {Name: "172.18.0.2:30080/TCP", Rules: []dataplane.RuleLine{}, Drift: ipvs.VirtualServerMissing, Kind: dataplane.ListingVirtualServer, Where: ipvs.At(nodePort, nil)}}
	if diff := cmp.Diff(want, got, equateAddrs); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
}

var equateAddrs = cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})

func TestDecidingChain(t *testing.T) {
	for _, tc := range []struct {
		chains []string
		want   string
	}{
		{nil, ""},
		{[]string{"filter-forward", "cluster-ips-check"}, "cluster-ips-check"},
		// reject-chain is shared: the chain that sent the packet there says why.
		{[]string{"filter-forward", "service-endpoints-check", nftables.ChainReject}, "service-endpoints-check"},
		{[]string{nftables.ChainReject}, nftables.ChainReject},
	} {
		if got := decidingChain(tc.chains); got != tc.want {
			t.Errorf("decidingChain(%v) = %q, want %q", tc.chains, got, tc.want)
		}
	}
}
