package trace

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

func TestMarkNFTDrift(t *testing.T) {
	svc := "service-X-ns/web/tcp/http"
	chains := []ChainListing{{Name: svc, Rules: []RuleLine{
		{Text: "ip daddr 10.96.0.20 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade # handle 7"},
		{Text: "meta l4proto tcp dnat ip to numgen random mod 2 map { 0 : 10.244.1.7 . 9376, 1 : 10.244.2.99 . 9376 } # handle 8"},
	}}, {Name: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376", Rules: []RuleLine{}}}
	diffs := []nftables.Difference{
		{ID: nftables.NFTEndpointStale, Subject: "10.244.2.99:9376", Expected: "absent", Actual: "dnat target of " + svc},
		{ID: nftables.NFTEndpointMissing, Subject: "10.244.2.5:9376", Expected: "dnat target of " + svc, Actual: "absent"},
		{ID: nftables.NFTEndpointMissing, Subject: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376", Expected: "present", Actual: "absent"},
		{ID: nftables.NFTServiceMissing, Subject: "service-ips { 10.96.0.20 . tcp . 80 }", Expected: "goto " + svc, Actual: "absent", Message: "no element"},
	}
	got := markNFTDrift(chains, diffs, "ip kube-proxy")
	want := []ChainListing{{Name: svc, Rules: []RuleLine{
		{Text: chains[0].Rules[0].Text},
		{Text: chains[0].Rules[1].Text, Drift: nftables.NFTEndpointStale},
		{Text: "missing: dnat to 10.244.2.5:9376", Drift: nftables.NFTEndpointMissing},
	}}, {Name: "endpoint-Y-ns/web/tcp/http__10.244.1.7/9376", Rules: []RuleLine{}, Drift: nftables.NFTEndpointMissing},
		{Table: "ip kube-proxy", Name: "(set and map elements)", Drift: nftables.NFTServiceMissing, Rules: []RuleLine{
			{Text: "service-ips { 10.96.0.20 . tcp . 80 }: no element; expected: goto " + svc + "; node has: absent", Drift: nftables.NFTServiceMissing}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
}

func TestMarkIPVSDrift(t *testing.T) {
	chains := []ChainListing{{Name: "10.96.0.20:80/TCP", Rules: []RuleLine{
		{Text: "virtual server 10.96.0.20:80/TCP scheduler rr"},
		{Text: "-> 10.244.1.10:8080 weight 1 Masq"},
		{Text: "-> 10.244.1.99:8080 weight 1 Masq"},
	}}}
	findings := []ipvs.Finding{
		{ID: ipvs.StaleRealServer, Subject: "10.96.0.20:80/TCP -> 10.244.1.99:8080"},
		{ID: ipvs.RealServerMissing, Subject: "10.96.0.20:80/TCP -> 10.244.1.12:8080", Expected: "weight 1"},
		{ID: ipvs.SchedulerMismatch, Subject: "10.96.0.20:80/TCP"},
		{ID: ipvs.VirtualServerMissing, Subject: "172.18.0.2:30080/TCP"},
		// Marked on the kube-ipvs0 listing by boundListing: no chain here.
		{ID: ipvs.AddressNotBound, Subject: "10.96.0.20"},
	}
	got := markIPVSDrift(chains, findings)
	want := []ChainListing{{Name: "10.96.0.20:80/TCP", Drift: ipvs.SchedulerMismatch, Rules: []RuleLine{
		{Text: "virtual server 10.96.0.20:80/TCP scheduler rr"},
		{Text: "-> 10.244.1.10:8080 weight 1 Masq"},
		{Text: "-> 10.244.1.99:8080 weight 1 Masq", Drift: ipvs.StaleRealServer},
		{Text: "missing: -> 10.244.1.12:8080 (weight 1)", Drift: ipvs.RealServerMissing},
	}}, {Name: "172.18.0.2:30080/TCP", Rules: []RuleLine{}, Drift: ipvs.VirtualServerMissing}}
	if diff := cmp.Diff(want, got); diff != "" {
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
		{[]string{"filter-forward", "service-endpoints-check", nftables.ChainReject}, "service-endpoints-check"},
		{[]string{nftables.ChainReject}, nftables.ChainReject},
	} {
		if got := decidingChain(tc.chains); got != tc.want {
			t.Errorf("decidingChain(%v) = %q, want %q", tc.chains, got, tc.want)
		}
	}
}
