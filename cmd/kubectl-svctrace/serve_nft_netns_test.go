//go:build linux

package main

import (
	"context"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svctrace/kubectl-svctrace/dataplane"

	dpnft "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
	knft "github.com/svctrace/kubectl-svctrace/kernel/nftables"
	"github.com/svctrace/kubectl-svctrace/proxy"
	proxynft "github.com/svctrace/kubectl-svctrace/proxy/nftables"
	"github.com/svctrace/kubectl-svctrace/render"
	"github.com/svctrace/kubectl-svctrace/source"
)

// nftTables lists every table of ns by "family name": `nft list table`
// of each, without handles, except the svctrace tables, which are
// dumped in name order (model.Table.Dump): a chain created again by a
// repair is listed last by nft, which is no difference in the table.
func nftTables(t *testing.T, ns string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(netnstest.Exec(t, ns, "", "nft", "list", "tables")), "\n") {
		f := strings.Fields(line) // "table ip kube-proxy"
		if len(f) != 3 {
			continue
		}
		if f[2] != "svctrace" {
			out[f[1]+" "+f[2]] = netnstest.Exec(t, ns, "", "nft", "list", "table", f[1], f[2])
			continue
		}
		tbl, err := knft.ListTable(t.Context(), nsRunner(ns), f[1], f[2])
		if err != nil || tbl == nil {
			t.Fatalf("list table %s %s: %v", f[1], f[2], err)
		}
		out[f[1]+" "+f[2]] = tbl.Dump()
	}
	return out
}

// nsRunner runs programs inside network namespace ns.
type nsRunner string

func (ns nsRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	return knft.ExecRunner{}.Run(ctx, "ip", append([]string{"netns", "exec", string(ns), name}, args...)...)
}

// withoutOwn is tables without the scoped layout's.
func withoutOwn(tables map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tables {
		if k != "ip svctrace" && k != "ip6 svctrace" {
			out[k] = v
		}
	}
	return out
}

// TestServeNFTScopedReconcilesAndCleansUp runs scoped nftables mode beside
// a kube-proxy table (with a canary rule added by hand to one of its
// chains) and a foreign table: those are never touched by a sync, chains
// and elements deleted by hand come back in one full sync and are
// counted, and --cleanup removes the svctrace tables and nothing else.
func TestServeNFTScopedReconcilesAndCleansUp(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns := netnstest.New(t, "srvnft")
	ctx := t.Context()
	netnstest.Exec(t, ns, "table inet canary {\n chain input {\n  type filter hook input priority 0; policy accept;\n  udp dport 9 drop\n }\n}\n", "nft", "-f", "-")
	eps := []string{"10.244.1.2", "10.244.2.2"}
	kubeDir, ownDir := t.TempDir(), t.TempDir()
	writeObjects(t, kubeDir, "", eps, "")
	writeObjects(t, ownDir, "service.kubernetes.io/service-proxy-name: svctrace", eps, "")
	nftMode := []string{"--serve", "--proxy-mode", "nftables", "--node", "node-a"}
	if code, out, errOut := svctrace(t, ctx, ns, append(nftMode, "--replace-kube-proxy", "--once", "-f", kubeDir)...); code != 0 {
		t.Fatalf("replace --once: %d %s %s", code, out, errOut)
	}
	netnstest.Exec(t, ns, "", "nft", "add", "rule", "ip", "kube-proxy", "services", "udp", "dport", "9", "counter", "comment", `"canary"`)
	before := nftTables(t, ns)
	scoped := append(nftMode, "-f", ownDir, "--cluster-cidr", "10.244.0.0/16")
	if code, out, errOut := svctrace(t, ctx, ns, append(scoped, "--once")...); code != 0 || !strings.Contains(out, "full sync") || strings.Contains(out, "repairs") {
		t.Fatalf("scoped --once: %d %s %s", code, out, errOut)
	}
	served := nftTables(t, ns)
	if d := cmp.Diff(before, withoutOwn(served)); d != "" || !strings.Contains(served["ip svctrace"], "chain service-") {
		t.Fatalf("scoped mode changed other tables (-before +after) or wrote none of its own:\n%s", d)
	}

	// sticky's service chain is reached through its service-ips element
	// only: both go, and empty's reject element.
	sticky := dpnft.ServiceChain(dpnft.PortName{Namespace: "ns", Name: "sticky", Protocol: "tcp", Port: "http"})
	netnstest.Exec(t, ns, "", "nft", "delete", "element", "ip", "svctrace", dpnft.MapServiceIPs, "{ 10.96.0.11 . tcp . 80 }")
	netnstest.Exec(t, ns, "", "nft", "delete", "element", "ip", "svctrace", dpnft.MapNoEndpointServices, "{ 10.96.0.12 . tcp . 80 }")
	netnstest.Exec(t, ns, "", "nft", "flush", "chain", "ip", "svctrace", sticky)
	netnstest.Exec(t, ns, "", "nft", "delete", "chain", "ip", "svctrace", sticky)
	code, out, errOut := svctrace(t, ctx, ns, append(scoped, "--once")...)
	if code != 0 || !strings.Contains(out, "chain_missing=1") || !strings.Contains(out, "element_missing=2") {
		t.Errorf("resync after damage: exit %d, want chain_missing=1 and element_missing=2 reported:\n%s\n%s", code, out, errOut)
	}
	if d := cmp.Diff(served, nftTables(t, ns)); d != "" {
		t.Errorf("not repaired (-served +repaired):\n%s", d)
	}

	code, out, errOut = svctrace(t, ctx, ns, append(scoped, "--dry-run")...)
	if code != 0 || strings.TrimSpace(out) != "" {
		t.Errorf("--dry-run of a table in sync: exit %d, want no transaction:\n%s\n%s", code, out, errOut)
	}
	checkNFTTrace(t, ns, ownDir)
	if code, out, errOut := svctrace(t, ctx, ns, append(nftMode, "--cleanup")...); code != 0 || !strings.Contains(out, "deleted table ip svctrace, table ip6 svctrace") {
		t.Fatalf("--cleanup: %d %s %s", code, out, errOut)
	}
	if d := cmp.Diff(before, nftTables(t, ns)); d != "" {
		t.Errorf("--cleanup left or removed something (-before +after):\n%s", d)
	}
	code, out, errOut = svctrace(t, ctx, ns, append(scoped, "--dry-run")...)
	if code != 0 || !strings.Contains(out, "add table ip svctrace") || !strings.Contains(out, "add chain ip svctrace "+sticky) {
		t.Errorf("--dry-run: exit %d, want the nft transaction:\n%s\n%s", code, out, errOut)
	}
	if d := cmp.Diff(before, nftTables(t, ns)); d != "" {
		t.Errorf("--dry-run changed the tables (-before +after):\n%s", d)
	}
}

// checkNFTTrace traces the svctrace Services against the node's
// `nft -j list ruleset`: the trace reads table svctrace for them, walks
// through it and finds no drift, as the generator that programmed the
// table is the checker. A service-ips element deleted by hand then shows
// as drift.
func checkNFTTrace(t *testing.T, ns, dir string) {
	t.Helper()
	trace := func(svc string) (int, string, string) {
		dump := filepath.Join(t.TempDir(), "node-a.nft.json")
		if err := os.WriteFile(dump, []byte(netnstest.Exec(t, ns, "", "nft", "-j", "list", "ruleset")), 0o600); err != nil {
			t.Fatal(err)
		}
		return svctrace(t, t.Context(), ns, svc, "-n", "ns", "-f", dir, "--nft", dump,
			"--node", "node-a", "--cluster-cidr", "10.244.0.0/16", "-o", "json")
	}
	for _, svc := range []string{"web", "sticky", "empty"} {
		code, out, errOut := trace(svc)
		// "empty" has no selector, an error finding of its own.
		if (code != ExitOK && code != ExitFindings) || strings.Contains(out, `"subject": "nftables/`) || !strings.Contains(out, `"ip svctrace"`) ||
			!strings.Contains(out, `"id": "ServeOwnsService"`) {
			t.Errorf("trace of %s on a node served by --serve: exit %d, drift, table svctrace not read, or no ServeOwnsService:\n%s\n%s", svc, code, out, errOut)
		}
	}
	netnstest.Exec(t, ns, "", "nft", "delete", "element", "ip", "svctrace", dpnft.MapServiceIPs, "{ 10.96.0.10 . tcp . 80 }")
	if _, out, errOut := trace("web"); !strings.Contains(out, `"id": "`+string(dpnft.NFTServiceMissing)+`"`) ||
		!strings.Contains(out, "kubectl-svctrace --serve on this node has not programmed web") {
		t.Errorf("trace of web without its service-ips element: no %s finding with a hint about --serve:\n%s\n%s", dpnft.NFTServiceMissing, out, errOut)
	}
}

// TestServeNFTDebugStateIsTheTracesHop programs a node namespace with
// scoped `--serve --proxy-mode nftables --once`, then asks /debug/state
// for a Service, answered from the node's `nft -j list ruleset`: its
// dataplane hop and drift are the trace's on the same dump, before and
// after the Service's service-ips element is deleted by hand.
func TestServeNFTDebugStateIsTheTracesHop(t *testing.T) {
	netnstest.Require(t, "ip", "nft")
	ns, dir := netnstest.New(t, "nftstate"), t.TempDir()
	ctx := t.Context()
	writeObjects(t, dir, "service.kubernetes.io/service-proxy-name: svctrace", []string{"10.244.1.2", "10.244.2.2"}, "")
	args := []string{"--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
	if code, out, errOut := svctrace(t, ctx, ns, append([]string{"--serve", "--proxy-mode", "nftables", "--once"}, args...)...); code != 0 {
		t.Fatalf("scoped --once: exit %d\n%s\n%s", code, out, errOut)
	}
	ruleset := func(ctx context.Context) ([]dumpPart, error) {
		b, err := nsRunner(ns).Run(ctx, "nft", "-j", "list", "ruleset")
		return []dumpPart{{source.NFTJSON, b}}, err
	}
	load := func(paths []string) ([]runtime.Object, error) {
		return source.LoadPathsWithin(paths, nil, "default", 1<<20)
	}
	src := &proxy.Files{Paths: []string{dir}, Node: "node-a", Selector: proxy.Selector(false), Load: load}
	if err := src.Start(ctx, func(proxy.Kind) {}); err != nil {
		t.Fatal(err)
	}
	loop := &proxy.Loop{Source: src, Mode: proxynft.NewMode(proxynft.Scoped, dataplane.Node{Name: "node-a"}, nil), Metrics: proxy.NewMetrics("svctrace")}
	srv := httptest.NewServer(loop.MetricsHandler(serveState("node-a", clusterCIDRs{corev1.IPv4Protocol: netip.MustParsePrefix("10.244.0.0/16")}, ruleset), false))
	defer srv.Close()
	compare := func(what string) render.DataplaneDocument {
		t.Helper()
		return stateIsTheTrace(t, ns, srv.URL, "--nft", netnstest.Exec(t, ns, "", "nft", "-j", "list", "ruleset"), args, what)
	}
	if got := compare("as programmed"); hasDrift(got) || len(got.Dataplane[0].Chains) == 0 || got.Dataplane[0].Chains[0].Table != "ip svctrace" {
		t.Errorf("as programmed: want table svctrace listed and no drift, got %+v", got.Dataplane)
	}
	netnstest.Exec(t, ns, "", "nft", "delete", "element", "ip", "svctrace", dpnft.MapServiceIPs, "{ 10.96.0.10 . tcp . 80 }")
	if got := compare("after deleting web's service-ips element"); !hasDrift(got) {
		t.Error("after deleting web's service-ips element: no drift in /debug/state")
	}
}
