package nftables

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
)

func TestProxierInSync(t *testing.T) { dataplanetest.CheckInSync(t, Proxier{}) }

func TestMarkNFTDrift(t *testing.T) {
	svc := "service-X-ns/web/tcp/http"
	chains := []dataplane.Listing{{Name: svc, Rules: []dataplane.RuleLine{
		{Text: "ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade # handle 7"},
		{Text: "meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.1.7 . 9376, 1 : 10.244.2.99 . 9376 } # handle 8"},
	}}, {Name: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376", Rules: []dataplane.RuleLine{}}}
	missingEP := dataplane.Locator{Chain: svc, Endpoint: netip.MustParseAddrPort("10.244.2.5:9376")}
	element := dataplane.Locator{Set: "service-ips", Element: []string{"10.96.0.20", "tcp", "80"}}
	diffs := []dataplane.Diff{
		{Kind: NFTEndpointStale, Where: dataplane.Locator{Chain: svc, Endpoint: netip.MustParseAddrPort("10.244.2.99:9376")}, Expected: "absent", Actual: "dnat target of " + svc},
		{Kind: NFTEndpointMissing, Where: missingEP, Expected: "dnat target of " + svc, Actual: "absent"},
		{Kind: NFTEndpointMissing, Where: dataplane.Locator{Chain: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376"}, Expected: "present", Actual: "absent"},
		{Kind: NFTServiceMissing, Where: element, Expected: "goto " + svc, Actual: "absent"},
	}
	got := markNFTDrift(chains, diffs, "ip kube-proxy")
	want := []dataplane.Listing{{Name: svc, Rules: []dataplane.RuleLine{
		{Text: chains[0].Rules[0].Text},
		{Text: chains[0].Rules[1].Text, Drift: NFTEndpointStale},
		{Text: "missing: dnat to 10.244.2.5:9376", Drift: NFTEndpointMissing, Kind: dataplane.LineMissing, Where: missingEP},
	}}, {Name: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376", Rules: []dataplane.RuleLine{}, Drift: NFTEndpointMissing},
		{Table: "ip kube-proxy", Name: "(set and map elements)", Drift: NFTServiceMissing, Kind: dataplane.ListingElements, Rules: []dataplane.RuleLine{
			{Text: "missing: service-ips { 10.96.0.20 . tcp . 80 } : goto " + svc, Drift: NFTServiceMissing, Kind: dataplane.LineMissing, Where: element}}},
	}
	if diff := cmp.Diff(want, got, dataplanetest.EquateAddrs); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
}

func TestDecidingChain(t *testing.T) {
	for _, tc := range []struct {
		chains []string
		want   string
	}{
		{nil, ""},
		{[]string{"filter-forward", "cluster-ips-check"}, "cluster-ips-check"},
		// reject-chain is shared: the chain that sent the packet there says why.
		{[]string{"filter-forward", "service-endpoints-check", ChainReject}, "service-endpoints-check"},
		{[]string{ChainReject}, ChainReject},
	} {
		if got := decidingChain(tc.chains); got != tc.want {
			t.Errorf("decidingChain(%v) = %q, want %q", tc.chains, got, tc.want)
		}
	}
}

func TestProxierSkipsLabelledServices(t *testing.T) { dataplanetest.CheckSkipsLabelled(t, Proxier{}) }
