package ipvs

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
)

func TestProxierInSync(t *testing.T) { dataplanetest.CheckInSync(t, Proxier{}) }

// TestProxierDriftLocatesTheRealServer: a real server the node lacks is
// located by its virtual server and address, and its listing line says it
// is missing.
func TestProxierDriftLocatesTheRealServer(t *testing.T) {
	m := Proxier{}
	want, err := m.Expect(dataplanetest.Node, dataplanetest.Web())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.Materialize(want)
	vs := &got.Table.VirtualServers[0]
	vs.RealServers = vs.RealServers[:1]
	diffs := m.Drift(want, got)
	if len(diffs) != 1 || diffs[0].Kind != "IPVSRealServerMissing" || diffs[0].Where.Endpoint != netip.MustParseAddrPort("10.244.1.11:8080") ||
		diffs[0].Where.Service != netip.MustParseAddrPort("10.96.0.20:80") {
		t.Fatalf("drift %+v, want 10.244.1.11:8080 of 10.96.0.20:80 missing", diffs)
	}
	var missing []dataplane.RuleLine
	for _, l := range m.Listings(want, got, diffs) {
		for _, r := range l.Rules {
			if r.Kind == dataplane.LineMissing {
				missing = append(missing, r)
			}
		}
	}
	if len(missing) != 1 || missing[0].Where.Endpoint != diffs[0].Where.Endpoint {
		t.Errorf("missing lines %+v, want the one real server", missing)
	}
}

func TestMarkIPVSDrift(t *testing.T) {
	vs := VirtualServer{Address: netip.MustParseAddr("10.96.0.20"), Port: 80, Protocol: TCP}
	rs := func(addr string) *RealServer {
		return &RealServer{Address: netip.MustParseAddr(addr), Port: 8080}
	}
	member := func(addr string) dataplane.RuleLine {
		return dataplane.RuleLine{Text: "-> " + addr + ":8080 weight 1 Masq", Kind: dataplane.LineMember, Where: At(vs, rs(addr))}
	}
	heading := dataplane.RuleLine{Text: "virtual server 10.96.0.20:80/TCP scheduler rr", Kind: dataplane.LineHeading, Where: At(vs, nil)}
	chains := []dataplane.Listing{{Name: "10.96.0.20:80/TCP", Rules: []dataplane.RuleLine{heading, member("10.244.1.10"), member("10.244.1.99")}}}
	nodePort := VirtualServer{Address: netip.MustParseAddr("172.18.0.2"), Port: 30080, Protocol: TCP}
	diffs := []dataplane.Diff{
		{Kind: StaleRealServer, Where: At(vs, rs("10.244.1.99"))},
		{Kind: RealServerMissing, Where: At(vs, rs("10.244.1.12")), WantWeight: 1},
		{Kind: SchedulerMismatch, Where: At(vs, nil)},
		{Kind: VirtualServerMissing, Where: At(nodePort, nil)},
		// Marked on the kube-ipvs0 listing by boundListing: no chain here.
		{Kind: AddressNotBound, Where: dataplane.Locator{Mode: dataplane.ModeIPVS, Address: netip.MustParseAddr("10.96.0.20")}},
	}
	got := markIPVSDrift(chains, diffs)
	stale := member("10.244.1.99")
	stale.Drift = StaleRealServer
	want := []dataplane.Listing{{Name: "10.96.0.20:80/TCP", Drift: SchedulerMismatch, Rules: []dataplane.RuleLine{
		heading, member("10.244.1.10"), stale,
		{Text: "missing: -> 10.244.1.12:8080 (weight 1)", Drift: RealServerMissing, Kind: dataplane.LineMissing, Where: At(vs, rs("10.244.1.12"))},
	}}, {Name: "172.18.0.2:30080/TCP", Rules: []dataplane.RuleLine{}, Drift: VirtualServerMissing, Kind: dataplane.ListingVirtualServer, Where: At(nodePort, nil)}}
	if diff := cmp.Diff(want, got, dataplanetest.EquateAddrs); diff != "" {
		t.Errorf("listings (-want +got):\n%s", diff)
	}
}

// TestProxierWithoutRealServersRefuses: a virtual server without real
// servers (no endpoints, or all draining) leaves the scheduler no
// destination and the kernel answers ICMP port unreachable, so the walk
// ends in REJECT.
func TestProxierWithoutRealServersRefuses(t *testing.T) {
	m := Proxier{}
	want, err := m.Expect(dataplanetest.Node, dataplanetest.Web())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.Materialize(want)
	got.Table.VirtualServers[0].RealServers = nil
	w, err := m.Walk(want, got, dataplanetest.Pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Outcomes) != 1 || w.Outcomes[0].Verdict != dataplane.VerdictReject || w.Outcomes[0].Probability != 1 {
		t.Errorf("outcomes %+v, want one REJECT", w.Outcomes)
	}
}

func TestProxierSkipsLabelledServices(t *testing.T) { dataplanetest.CheckSkipsLabelled(t, Proxier{}) }

// A walk sets beside each real server's expected share the connections it
// holds now, as the node's IPVS counts them; a table without connections
// observes nothing.
func TestProxierWalkObservesConnections(t *testing.T) {
	m := Proxier{}
	want, err := m.Expect(dataplanetest.Node, dataplanetest.Web())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := m.Materialize(want)
	p := dataplanetest.Pod
	w, err := m.Walk(want, got, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range w.Outcomes {
		if o.Observed != nil {
			t.Fatalf("observed %+v on a table without connections", o.Observed)
		}
	}
	vs := &got.Table.VirtualServers[0]
	for i := range vs.RealServers {
		vs.RealServers[i].ActiveConns, vs.RealServers[i].InactiveConns = 10*i, 10
	}
	if w, err = m.Walk(want, got, p); err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for i, o := range w.Outcomes {
		rs := vs.RealServers[i]
		if o.Target != rs.Key() || o.Observed == nil || o.Observed.Packets != uint64(10*i+10) {
			t.Fatalf("outcome %d %s observed %+v, want %d connections of %s", i, o.Target, o.Observed, 10*i+10, rs.Key())
		}
		total += o.Observed.Share
	}
	if total < 0.999 || total > 1.001 {
		t.Errorf("observed shares add up to %v", total)
	}
}

// TestServeProxierOwnsTheLabelledServices: scoped --serve's virtual
// servers for a Service labelled for it are expected by Serve, and stale
// to kube-proxy's Proxier, which skips the Service.
func TestServeProxierOwnsTheLabelledServices(t *testing.T) {
	objs := dataplanetest.Web()
	for _, s := range objs.Services {
		s.Labels = map[string]string{dataplane.LabelServiceProxyName: dataplane.ServeProxyName}
	}
	for _, s := range objs.Slices {
		s.Labels[dataplane.LabelServiceProxyName] = dataplane.ServeProxyName
	}
	want, err := Serve.Expect(dataplanetest.Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Expected) != len(objs.Services) || len(want.Expected[0].VirtualServers) == 0 {
		t.Fatalf("Serve expects %+v, want the labelled Services' virtual servers", want.Expected)
	}
	got, _ := Serve.Materialize(want)
	if d := Serve.Drift(want, got); len(d) != 0 {
		t.Errorf("Serve: drift %+v on a node it serves", d)
	}
	kube, err := Proxier{}.Expect(dataplanetest.Node, objs)
	if err != nil {
		t.Fatal(err)
	}
	d := Proxier{}.Drift(kube, got)
	if len(d) == 0 || d[0].Kind != dataplane.StaleProxyRules {
		t.Errorf("kube-proxy's view of --serve's virtual servers: %+v, want StaleProxyRules", d)
	}
}
