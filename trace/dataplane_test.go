package trace_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/demo"
	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// input loads a scenario's Service into a trace.Input with a node view.
func input(t *testing.T, bundle, svc string, d *trace.DataplaneInput) trace.Input {
	t.Helper()
	objs, err := source.LoadPaths([]string{filepath.Join(scenario.Dir(), bundle)}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	in, err := source.Fetcher{Client: source.Offline(objs)}.Fetch(context.Background(), "default", svc)
	if err != nil {
		t.Fatal(err)
	}
	in.Dataplane = d
	return *in
}

// nodeDump renders what kube-proxy would write for in's Service on node-1
// with cluster CIDR 10.244.0.0/16, the way iptables-save prints it back.
func nodeDump(t *testing.T, in trace.Input) string {
	t.Helper()
	return nodeDumpFor(t, in, "node-1", "172.18.0.2")
}

// nodeDumpFor is nodeDump for another node.
func nodeDumpFor(t *testing.T, in trace.Input, node, ip string) string {
	t.Helper()
	slicePtrs := make([]*discoveryv1.EndpointSlice, len(in.EndpointSlices))
	for i := range in.EndpointSlices {
		slicePtrs[i] = &in.EndpointSlices[i]
	}
	rs, err := expected.Generate(expected.Node{Name: node, IPs: []string{ip}, LocalMode: expected.LocalClusterCIDR, LocalValue: "10.244.0.0/16"},
		[]*corev1.Service{in.Service}, slicePtrs)
	if err != nil {
		t.Fatal(err)
	}
	text, err := rs.Save()
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func parse(t *testing.T, text string) *iptables.Dump {
	t.Helper()
	d, err := iptables.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type share struct {
	Verdict, Target string
	Percent         int
}

func shares(w dataplane.Walk) []share {
	var out []share
	for _, o := range w.Outcomes {
		out = append(out, share{string(o.Verdict), o.Target, int(o.Probability*1000+0.5) / 10})
	}
	slices.SortFunc(out, func(a, b share) int { return strings.Compare(a.Target, b.Target) })
	return out
}

func ids(fs []trace.Finding, area string) []string {
	var out []string
	for _, e := range trace.Catalog() {
		for _, f := range fs {
			if f.ID == e.ID && e.Area == area {
				out = append(out, f.ID)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestGeneratedRulesAreWalkedWithoutADump(t *testing.T) {
	tr := trace.Build(input(t, "healthy.yaml", "web", nil))
	if len(tr.Dataplane) != 1 || tr.Dataplane[0].Source != "expected" || tr.Dataplane[0].Mode != "iptables" {
		t.Fatalf("dataplane hops: %+v", tr.Dataplane)
	}
	want := []share{{"DNAT", "10.244.1.10:8080", 33}, {"DNAT", "10.244.1.11:8080", 33}, {"DNAT", "10.244.1.12:8080", 33}}
	if diff := cmp.Diff(want, shares(tr.Dataplane[0].Walks[0])); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got := tr.Dataplane[0].Walks[0].Outcomes[0].Path; !strings.HasPrefix(got, "KUBE-SERVICES → KUBE-SVC-") || !strings.Contains(got, "KUBE-SEP-") {
		t.Errorf("chain path %q", got)
	}
}

func TestNodeDumpDrift(t *testing.T) {
	base := input(t, "healthy.yaml", "web", nil)
	good := nodeDump(t, base)
	sepTo11 := endpointChain(t, good, "10.244.1.11:8080")
	cases := []struct {
		name    string
		dump    string
		wantIDs []string
		targets int
	}{
		{"matching dump", good, nil, 3},
		{"endpoint chain deleted by hand", dropLines(good, sepTo11), []string{"EndpointChainMissing"}, 2},
		{"endpoint that is gone", strings.ReplaceAll(good, "10.244.1.12", "10.244.1.99"), []string{"DNATTargetMismatch"}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, "healthy.yaml", "web", &trace.DataplaneInput{IPTables: parse(t, tc.dump), IPTablesName: "node-1.save"})
			tr := trace.Build(in)
			got := ids(tr.Findings, "dataplane")
			if !containsAll(got, tc.wantIDs) || (len(tc.wantIDs) == 0 && len(got) > 0) {
				t.Errorf("dataplane findings %v, want %v; all: %+v", got, tc.wantIDs, tr.Findings)
			}
			if n := len(tr.Dataplane[0].Walks[0].Outcomes); n != tc.targets {
				t.Errorf("%d outcomes, want %d", n, tc.targets)
			}
		})
	}
}

// endpointChain is the KUBE-SEP chain of a dump that DNATs to endpoint.
func endpointChain(t *testing.T, dump, endpoint string) string {
	t.Helper()
	for _, l := range strings.Split(dump, "\n") {
		if strings.Contains(l, "--to-destination "+endpoint) {
			return strings.Fields(l)[1]
		}
	}
	t.Fatalf("no KUBE-SEP chain for %s in the generated rules", endpoint)
	return ""
}

// dropLines removes every line that mentions chain (its declaration,
// rules and the jumps to it).
func dropLines(dump, chain string) string {
	var keep []string
	for _, l := range strings.Split(dump, "\n") {
		if !strings.Contains(l, chain) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func TestNoEndpointsRejects(t *testing.T) {
	tr := trace.Build(input(t, "no-ready-endpoints.yaml", "web", nil))
	want := []share{{"REJECT", "", 100}}
	if diff := cmp.Diff(want, shares(tr.Dataplane[0].Walks[0])); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
}

func TestExternalWalksReachLoadBalancer(t *testing.T) {
	tr := trace.Build(input(t, "local-policy.yaml", "lb", &trace.DataplaneInput{From: dataplane.EntryExternal, Node: "node-1"}))
	var dests []string
	for _, w := range tr.Dataplane[0].Walks {
		dests = append(dests, w.Packet.Dest.String()+" "+shares(w)[0].Target)
	}
	// externalTrafficPolicy Local: node-1's only local ready endpoint takes
	// all outside traffic, through the NodePort and the LoadBalancer IP.
	want := []string{"172.18.0.2 10.244.1.10:8080", "198.51.100.7 10.244.1.10:8080"}
	if diff := cmp.Diff(want, dests); diff != "" {
		t.Errorf("external walks (-want +got):\n%s", diff)
	}
}

func TestIPVSAndConntrackDumps(t *testing.T) {
	ipvsText, err := os.ReadFile(filepath.Join(scenario.Dir(), "..", "dumps", "web.ipvs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	d := &trace.DataplaneInput{}
	if err := source.LoadDumps(source.DumpPaths{IPVS: filepath.Join(scenario.Dir(), "..", "dumps", "web.ipvs.txt"),
		Conntrack: filepath.Join(scenario.Dir(), "..", "dumps", "web.conntrack.txt")}, nil, d); err != nil {
		t.Fatal(err)
	}
	tr := trace.Build(input(t, "healthy.yaml", "web", d))
	got := ids(tr.Findings, "dataplane")
	want := []string{"IPVSRealServerMissing", "IPVSStaleRealServer", "StaleConntrackEntry"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s\ndump:\n%s", diff, ipvsText)
	}
	if len(tr.Dataplane) != 1 || tr.Dataplane[0].Mode != "ipvs" {
		t.Fatalf("want only the ipvs view, got %+v", tr.Dataplane)
	}
	if n := len(tr.Dataplane[0].Walks[0].Outcomes); n != 3 {
		t.Errorf("ipvs walk has %d outcomes, want the 3 real servers", n)
	}
}

func TestOutcomesToNonEndpointsAreMarked(t *testing.T) {
	base := input(t, "healthy.yaml", "web", nil)
	gone := strings.ReplaceAll(nodeDump(t, base), "10.244.1.12", "10.244.1.99")
	tr := trace.Build(input(t, "healthy.yaml", "web", &trace.DataplaneInput{IPTables: parse(t, gone), IPTablesName: "node-1.save"}))
	marked := map[string]bool{}
	for _, o := range tr.Dataplane[0].Walks[0].Outcomes {
		marked[o.Target] = o.NotEndpoint
	}
	want := map[string]bool{"10.244.1.10:8080": false, "10.244.1.11:8080": false, "10.244.1.99:8080": true}
	if diff := cmp.Diff(want, marked); diff != "" {
		t.Errorf("not-an-endpoint marks (-want +got):\n%s", diff)
	}
}

// TestNFTMapHole takes node-1's real nftables ruleset from the demo and
// drops the second element of the Service's numgen map, as a broken sync
// could: half the new connections find no element, skip the DNAT and are
// rejected as traffic to a cluster IP nothing serves.
func TestNFTMapHole(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "demo", "node-1.nft.json"))
	if err != nil {
		t.Fatal(err)
	}
	full := `[[0, {"concat": ["10.244.1.7", 9376]}], [1, {"concat": ["10.244.2.5", 9376]}]]`
	hole := `[[0, {"concat": ["10.244.1.7", 9376]}]]`
	text := strings.Replace(compactJSON(t, raw), compactJSON(t, []byte(full)), compactJSON(t, []byte(hole)), 1)
	if text == compactJSON(t, raw) {
		t.Fatal("the demo's numgen map was not found")
	}
	d := &trace.DataplaneInput{}
	if err := source.ParseDump(source.NFTJSON, "hole.json", []byte(text), d); err != nil {
		t.Fatal(err)
	}
	in := demoInput(t)
	in.Dataplane = d
	tr := trace.Build(in)
	want := []share{{"REJECT", "", 50}, {"DNAT", "10.244.1.7:9376", 50}}
	if diff := cmp.Diff(want, shares(tr.Dataplane[0].Walks[0])); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if got := ids(tr.Findings, "dataplane"); !slices.Contains(got, "NFTEndpointMissing") {
		t.Errorf("dataplane findings %v, want NFTEndpointMissing", got)
	}
	// The rejecting chain is part of the path: it says why.
	for _, o := range tr.Dataplane[0].Walks[0].Outcomes {
		if o.Verdict == "REJECT" && !strings.Contains(o.Path, "cluster-ips-check → REJECT") {
			t.Errorf("REJECT path %q does not name the chain that rejected", o.Path)
		}
	}
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func demoInput(t *testing.T) trace.Input {
	t.Helper()
	objs, err := demo.Objects()
	if err != nil {
		t.Fatal(err)
	}
	in, err := source.Fetcher{Client: source.Offline(objs), Offline: true}.Fetch(context.Background(), demo.Namespace, demo.Service)
	if err != nil {
		t.Fatal(err)
	}
	return *in
}

// The demo node's nftables table, stripped of the hairpin-connections set
// that marks kube-proxy v1.36 and later, has no layout the trace knows:
// the trace says so once, as info, and finds nothing else it did not find
// before, as the packets still meet what they did.
func TestNFTLayoutUnknownIsInfo(t *testing.T) {
	in := demoInput(t)
	in.Dataplane = &trace.DataplaneInput{}
	if err := demo.Dataplane(in.Dataplane, true); err != nil {
		t.Fatal(err)
	}
	ids := func(tr *trace.Trace) []string {
		var out []string
		for _, f := range tr.Findings {
			out = append(out, string(f.Severity)+" "+f.ID)
		}
		slices.Sort(out)
		return out
	}
	before := ids(trace.Build(in))
	if slices.Contains(before, "info "+trace.NFTLayoutUnknown) {
		t.Fatalf("the demo's own table is reported as of unknown layout")
	}
	delete(in.Dataplane.NFT.KubeProxy(knftables.IPv4Family).Sets, nftables.SetHairpinConnections)
	want := append(slices.Clone(before), "info "+trace.NFTLayoutUnknown)
	slices.Sort(want)
	if d := cmp.Diff(want, ids(trace.Build(in))); d != "" {
		t.Errorf("findings without the hairpin set (-want +got):\n%s", d)
	}
}
