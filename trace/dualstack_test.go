package trace_test

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/dataplane/ipvs"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// familyDump is what kube-proxy's proxier of one family writes on node-1
// of dualstack.yaml, as iptables-save prints it.
func familyDump(t *testing.T, in trace.Input, f corev1.IPFamily) string {
	t.Helper()
	ips, cidr := []string{"172.18.0.2"}, "10.244.0.0/16"
	if f == corev1.IPv6Protocol {
		ips, cidr = []string{"fd00:172:18::2"}, "fd00:10:244::/56"
	}
	rs, err := expected.Generate(expected.Node{Name: "node-1", Family: f, IPs: ips, LocalMode: expected.LocalClusterCIDR, LocalValue: cidr},
		[]*corev1.Service{in.Service}, slicePtrs(in))
	if err != nil {
		t.Fatal(err)
	}
	text, err := rs.Save()
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func slicePtrs(in trace.Input) []*discoveryv1.EndpointSlice {
	out := make([]*discoveryv1.EndpointSlice, len(in.EndpointSlices))
	for i := range in.EndpointSlices {
		out[i] = &in.EndpointSlices[i]
	}
	return out
}

// hopsByFamily returns the hops of mode by family ("" for IPv4).
func hopsByFamily(tr *trace.Trace, mode string) map[string]trace.DataplaneHop {
	out := map[string]trace.DataplaneHop{}
	for _, h := range tr.Dataplane {
		if h.Mode == mode {
			out[h.Family] = h
		}
	}
	return out
}

// A dual-stack node has an iptables-save and an ip6tables-save: each is
// walked for the Service's address of its family and judged against its
// own proxier, and a fault in one shows in that family's hop only.
func TestDualStackIPTablesDumps(t *testing.T) {
	base := input(t, "dualstack.yaml", "web", nil)
	v4, v6 := familyDump(t, base, corev1.IPv4Protocol), familyDump(t, base, corev1.IPv6Protocol)
	sep6 := endpointChain(t, v6, "[fd00:10:244:2::10]:8080")
	cases := []struct {
		name           string
		v4Dump, v6Dump string
		wantIDs        []string
		wantV4, wantV6 int
	}{
		{"both in sync", v4, v6, nil, 2, 2},
		{"an IPv6 endpoint chain deleted", v4, dropLines(v6, sep6), []string{"EndpointChainMissing"}, 2, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &trace.DataplaneInput{Node: "node-1", IPTables: parse(t, tc.v4Dump), IPTablesName: "v4.save", IPTables6: parse(t, tc.v6Dump), IPTables6Name: "v6.save"}
			tr := trace.Build(input(t, "dualstack.yaml", "web", d))
			if got := ids(tr.Findings, "dataplane"); !containsAll(got, tc.wantIDs) || (len(tc.wantIDs) == 0 && len(got) > 0) {
				t.Fatalf("dataplane findings %v, want %v; all: %+v", got, tc.wantIDs, tr.Findings)
			}
			hops := hopsByFamily(tr, "iptables")
			h4, h6 := hops[string(corev1.IPv4Protocol)], hops[string(corev1.IPv6Protocol)]
			if h4.Source != "v4.save" || h6.Source != "v6.save" || len(hops) != 2 {
				t.Fatalf("hops %+v: want one per family, each from its own dump", tr.Dataplane)
			}
			checkFamilyWalk(t, h4, "10.96.0.30", tc.wantV4)
			checkFamilyWalk(t, h6, "fd00:10:96::30", tc.wantV6)
			for _, f := range tr.Findings {
				if f.Where != nil && f.Where.Family != string(corev1.IPv6Protocol) {
					t.Errorf("finding %s is placed in the %q rules, want IPv6's: %s", f.ID, f.Where.Family, f.Message)
				}
			}
		})
	}
}

func checkFamilyWalk(t *testing.T, h trace.DataplaneHop, dst string, outcomes int) {
	t.Helper()
	if len(h.Walks) == 0 {
		t.Fatalf("%s hop has no walk", h.Family)
	}
	w := h.Walks[0]
	if w.Packet.Dest != netip.MustParseAddr(dst) {
		t.Errorf("%s walk goes to %s, want %s", h.Family, w.Packet.Dest, dst)
	}
	dnat := 0
	for _, o := range w.Outcomes {
		if o.Verdict == dataplane.VerdictDNAT {
			dnat++
			if a, err := netip.ParseAddrPort(o.Target); err != nil || a.Addr().Is6() != netip.MustParseAddr(dst).Is6() {
				t.Errorf("%s walk reaches %s, an endpoint of the other family", h.Family, o.Target)
			}
		}
	}
	if dnat != outcomes {
		t.Errorf("%s walk has %d DNAT outcomes, want %d: %+v", h.Family, dnat, outcomes, w.Outcomes)
	}
}

// kube-proxy's nftables mode writes an ip and an ip6 kube-proxy table: a
// dual-stack Service is walked and judged in each.
func TestDualStackNFTables(t *testing.T) {
	base := input(t, "dualstack.yaml", "web", nil)
	rs := &nftables.Ruleset{}
	for _, f := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		ip := "172.18.0.2"
		if f == corev1.IPv6Protocol {
			ip = "fd00:172:18::2"
		}
		n := dataplane.Node{Name: "node-1", Family: f, IPs: []netip.Addr{netip.MustParseAddr(ip)}}
		w, err := nftables.Proxier{}.Expect(n, dataplane.Objects{Services: []*corev1.Service{base.Service}, Slices: slicePtrs(base)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := nftables.Proxier{}.Materialize(w)
		if err != nil {
			t.Fatal(err)
		}
		rs.Tables = append(rs.Tables, got.Tables...)
	}
	tr := trace.Build(input(t, "dualstack.yaml", "web", &trace.DataplaneInput{Node: "node-1", NFT: rs, NFTName: "ruleset.json"}))
	if got := ids(tr.Findings, "dataplane"); len(got) > 0 {
		t.Fatalf("dataplane findings %v on tables in sync: %+v", got, tr.Findings)
	}
	hops := hopsByFamily(tr, "nftables")
	if len(hops) != 2 {
		t.Fatalf("nftables hops %+v, want one per family", tr.Dataplane)
	}
	checkFamilyWalk(t, hops[string(corev1.IPv4Protocol)], "10.96.0.30", 2)
	checkFamilyWalk(t, hops[string(corev1.IPv6Protocol)], "fd00:10:96::30", 2)
}

// kube-proxy's IPVS mode keeps both families in one table: each family is
// its own view, and a real server missing from an IPVS v6 virtual server
// is reported once, in the IPv6 view.
func TestDualStackIPVS(t *testing.T) {
	base := input(t, "dualstack.yaml", "web", nil)
	n := dataplane.Node{Name: "node-1", IPs: []netip.Addr{netip.MustParseAddr("172.18.0.2"), netip.MustParseAddr("fd00:172:18::2")}}
	w, err := ipvs.Proxier{}.Expect(n, dataplane.Objects{Services: []*corev1.Service{base.Service}, Slices: slicePtrs(base)})
	if err != nil {
		t.Fatal(err)
	}
	synced, err := ipvs.Proxier{}.Materialize(w)
	if err != nil {
		t.Fatal(err)
	}
	build := func(tb ipvs.Table) *trace.Trace {
		d := &trace.DataplaneInput{Node: "node-1", NodeIPs: n.IPs, IPVS: &tb, IPVSName: "ipvs.txt", IPVSLocal: synced.Local, IPVSLocalName: "addrs.txt"}
		return trace.Build(input(t, "dualstack.yaml", "web", d))
	}
	tr := build(synced.Table)
	if got := ids(tr.Findings, "dataplane"); len(got) > 0 {
		t.Fatalf("dataplane findings %v on a table in sync: %+v", got, tr.Findings)
	}
	hops := hopsByFamily(tr, "ipvs")
	if len(hops) != 2 {
		t.Fatalf("IPVS hops %+v, want one per family", tr.Dataplane)
	}
	checkFamilyWalk(t, hops[string(corev1.IPv4Protocol)], "10.96.0.30", 2)
	checkFamilyWalk(t, hops[string(corev1.IPv6Protocol)], "fd00:10:96::30", 2)

	broken := ipvs.Table{}
	dropped := false
	for _, vs := range synced.Table.VirtualServers {
		if vs.Address == netip.MustParseAddr("fd00:10:96::30") && !dropped {
			vs.RealServers, dropped = vs.RealServers[1:], true
		}
		broken.VirtualServers = append(broken.VirtualServers, vs)
	}
	if !dropped {
		t.Fatal("no IPv6 cluster IP virtual server in the materialized table")
	}
	tr = build(broken)
	var where []string
	for _, f := range tr.Findings {
		if f.Where != nil {
			where = append(where, f.ID+" "+f.Where.Family)
		}
	}
	if len(where) != 1 || where[0] != "IPVSRealServerMissing IPv6" {
		t.Errorf("findings %v, want one IPVSRealServerMissing in the IPv6 view", where)
	}
}

// An IPv6-only Service's nftables hop says it walked the ip6 table (family
// IPv6); an IPv4-only Service's hop names no family, as before dual-stack.
func TestNFTablesHopNamesIPv6(t *testing.T) {
	for _, f := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
		in := input(t, "dualstack.yaml", "web", nil)
		svc := in.Service.DeepCopy()
		i := 0
		if svc.Spec.IPFamilies[1] == f {
			i = 1
		}
		svc.Spec.IPFamilies, svc.Spec.ClusterIPs = []corev1.IPFamily{f}, []string{svc.Spec.ClusterIPs[i]}
		svc.Spec.ClusterIP = svc.Spec.ClusterIPs[0]
		in.Service = svc
		var slices []discoveryv1.EndpointSlice
		for _, s := range in.EndpointSlices {
			if string(s.AddressType) == string(f) {
				slices = append(slices, s)
			}
		}
		in.EndpointSlices = slices
		ip := map[corev1.IPFamily]string{corev1.IPv4Protocol: "172.18.0.2", corev1.IPv6Protocol: "fd00:172:18::2"}[f]
		n := dataplane.Node{Name: "node-1", Family: f, IPs: []netip.Addr{netip.MustParseAddr(ip)}}
		w, err := nftables.Proxier{}.Expect(n, dataplane.Objects{Services: []*corev1.Service{svc}, Slices: slicePtrs(in)})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := nftables.Proxier{}.Materialize(w)
		if err != nil {
			t.Fatal(err)
		}
		in.Dataplane = &trace.DataplaneInput{Node: "node-1", NFT: rs, NFTName: "ruleset.json"}
		tr := trace.Build(in)
		if got := ids(tr.Findings, "dataplane"); len(got) > 0 {
			t.Fatalf("%s: dataplane findings %v on a table in sync: %+v", f, got, tr.Findings)
		}
		want := map[corev1.IPFamily]string{corev1.IPv6Protocol: "IPv6"}[f]
		if len(tr.Dataplane) != 1 || tr.Dataplane[0].Family != want {
			t.Errorf("%s-only Service: hops %+v, want one of family %q", f, tr.Dataplane, want)
			continue
		}
		checkFamilyWalk(t, tr.Dataplane[0], svc.Spec.ClusterIP, 2)
	}
}
