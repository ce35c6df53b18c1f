package trace_test

import (
	"encoding/json"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestFindingsCarryTheirPlace: a dataplane finding says where it is as
// data, the dump line of an iptables rule, an IPVS real server, a
// conntrack flow, and the JSON output carries it as "where".
func TestFindingsCarryTheirPlace(t *testing.T) {
	base := input(t, "healthy.yaml", "web", nil)
	gone := strings.ReplaceAll(nodeDump(t, base), "10.244.1.12", "10.244.1.99")
	dump := parse(t, gone)
	line := 0
	for _, l := range strings.Split(gone, "\n") {
		line++
		if strings.Contains(l, "--to-destination 10.244.1.99:8080") {
			break
		}
	}
	ipt := trace.Build(input(t, "healthy.yaml", "web", &trace.DataplaneInput{IPTables: dump, IPTablesName: "node-1.save"}))
	f := finding(t, ipt, "DNATTargetMismatch")
	if f.Where == nil || f.Where.Mode != dataplane.ModeIPTables || f.Where.Table != "nat" ||
		!strings.HasPrefix(f.Where.Chain, "KUBE-SEP-") || f.Where.Line != line || f.Where.Family != "IPv4" {
		t.Errorf("DNATTargetMismatch at %+v, want nat KUBE-SEP-… line %d of IPv4", f.Where, line)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"where":{"mode":"iptables","family":"IPv4","table":"nat","chain":"` + f.Where.Chain; !strings.Contains(string(b), want) {
		t.Errorf("JSON %s lacks %s", b, want)
	}

	d := &trace.DataplaneInput{}
	dumps := filepath.Join(scenario.Dir(), "..", "dumps")
	if err := source.LoadDumps(source.DumpPaths{IPVS: filepath.Join(dumps, "web.ipvs.txt"), Conntrack: filepath.Join(dumps, "web.conntrack.txt")}, nil, d); err != nil {
		t.Fatal(err)
	}
	tr := trace.Build(input(t, "healthy.yaml", "web", d))
	vs := netip.MustParseAddrPort("10.96.0.20:80")
	for _, tc := range []struct {
		id   string
		want dataplane.Locator
	}{
		{"IPVSStaleRealServer", dataplane.Locator{Mode: dataplane.ModeIPVS, Family: "IPv4", Chain: "10.96.0.20:80/TCP", Protocol: "TCP", Service: vs,
			Endpoint: netip.MustParseAddrPort("10.244.1.99:8080")}},
		{"IPVSRealServerMissing", dataplane.Locator{Mode: dataplane.ModeIPVS, Family: "IPv4", Chain: "10.96.0.20:80/TCP", Protocol: "TCP", Service: vs,
			Endpoint: netip.MustParseAddrPort("10.244.1.12:8080")}},
	} {
		f := finding(t, tr, tc.id)
		if diff := cmp.Diff(&tc.want, f.Where, cmpopts.EquateComparable(netip.Addr{}, netip.AddrPort{})); diff != "" {
			t.Errorf("%s where (-want +got):\n%s", tc.id, diff)
		}
	}
	ct := finding(t, tr, "StaleConntrackEntry")
	if ct.Where == nil || ct.Where.Mode != dataplane.ModeConntrack || ct.Where.Service != vs || !ct.Where.Endpoint.IsValid() {
		t.Errorf("StaleConntrackEntry at %+v, want a flow to %s", ct.Where, vs)
	}
	for _, f := range tr.Findings {
		if !strings.Contains(f.Subject, "/") || f.Where != nil {
			continue
		}
		if strings.HasPrefix(f.Subject, "ipvs/") || strings.HasPrefix(f.Subject, "conntrack/") {
			t.Errorf("finding %s about %s has no place", f.ID, f.Subject)
		}
	}
}

func finding(t *testing.T, tr *trace.Trace, id string) trace.Finding {
	t.Helper()
	for _, f := range tr.Findings {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no %s finding in %+v", id, tr.Findings)
	return trace.Finding{}
}
