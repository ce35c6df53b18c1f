//go:build linux

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svctrace/kubectl-svctrace/dataplane/dataplanetest"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
	kiptables "github.com/svctrace/kubectl-svctrace/kernel/iptables"
	"github.com/svctrace/kubectl-svctrace/proxy"
	proxyiptables "github.com/svctrace/kubectl-svctrace/proxy/iptables"
	"github.com/svctrace/kubectl-svctrace/render"
	"github.com/svctrace/kubectl-svctrace/source"
)

// nsExec runs iptables-save inside a network namespace, so the HTTP
// handler (on any thread of the test process) reads that node's rules.
type nsExec struct{ ns string }

func (e nsExec) Run(ctx context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
	return kiptables.OSExec{}.Run(ctx, stdin, "ip", append([]string{"netns", "exec", e.ns, name}, args...)...)
}

// TestServeDebugStateIsTheTracesHop programs a node namespace with scoped
// `--serve --once`, then asks /debug/state for a Service: the answer's
// dataplane hops and findings are those of `kubectl svctrace SVC
// --iptables-save DUMP -o json` on the node's iptables-save, before and
// after one of the Service's chains is flushed by hand.
func TestServeDebugStateIsTheTracesHop(t *testing.T) {
	ns, dir, args := servedScoped(t, "srvstate")
	ctx := t.Context()

	ipt, err := kiptables.New(ctx, kiptables.Options{Backend: kiptables.BackendNFT, Exec: nsExec{ns}})
	if err != nil {
		t.Fatal(err)
	}
	m := proxyiptables.NewMode(ipt, proxyiptables.Scoped, expected.Node{Name: "node-a"})
	save := func(ctx context.Context) ([]dumpPart, error) {
		b, err := m.Save(ctx)
		return []dumpPart{{source.IPTablesSave, b}}, err
	}
	load := func(paths []string) ([]runtime.Object, error) {
		return source.LoadPathsWithin(paths, nil, "default", 1<<20)
	}
	src := &proxy.Files{Paths: []string{dir}, Node: "node-a", Selector: proxy.Selector(false), Load: load}
	if err := src.Start(ctx, func(proxy.Kind) {}); err != nil {
		t.Fatal(err)
	}
	loop := &proxy.Loop{Source: src, Mode: m, Metrics: proxy.NewMetrics("svctrace")}
	srv := httptest.NewServer(loop.MetricsHandler(serveState("node-a", clusterCIDRs{corev1.IPv4Protocol: netip.MustParsePrefix("10.244.0.0/16")}, save), false))
	defer srv.Close()

	compare := func(what string) render.DataplaneDocument {
		t.Helper()
		// The tables /debug/state reads, in its order, so dump lines agree.
		saved := netnstest.Exec(t, ns, "", "iptables-nft-save", "-c", "-t", "filter") + netnstest.Exec(t, ns, "", "iptables-nft-save", "-c", "-t", "nat")
		return stateIsTheTrace(t, ns, srv.URL, "--iptables-save", saved, args, what)
	}
	if got := compare("as programmed"); len(got.Dataplane[0].Walks) == 0 || !strings.Contains(got.Dataplane[0].Walks[0].Outcomes[0].Path, "SVCT-SVC-") {
		t.Errorf("as programmed: want walks through SVCT- chains, got %+v", got.Dataplane[0].Walks)
	} else if hasDrift(got) {
		t.Errorf("as programmed: drift %+v", got.Findings)
	}
	web := expected.ServeLayout.Chain(expected.ChainNames(expected.PortName("ns", "web", "http"), corev1.ProtocolTCP).Cluster)
	netnstest.Exec(t, ns, "", "iptables-nft", "-t", "nat", "-F", web)
	if got := compare("after flushing " + web); !hasDrift(got) {
		t.Errorf("after flushing %s: no drift in /debug/state", web)
	}
	getState(t, srv.URL+"/debug/state?service=ns/nope", http.StatusNotFound)
	getState(t, srv.URL+"/debug/state?service=web", http.StatusBadRequest)
}

// stateIsTheTrace asks the /debug/state of the server at url for ns/web
// and wants its dataplane hops and drift findings to be those of
// `kubectl svctrace web` run in network namespace ns on the node's dump
// (flag dumpFlag, content dump) with args, and returns the answer.
func stateIsTheTrace(t *testing.T, ns, url, dumpFlag, dump string, args []string, what string) render.DataplaneDocument {
	t.Helper()
	state := getState(t, url+"/debug/state?service=ns/web", http.StatusOK)
	file := filepath.Join(t.TempDir(), "node-a.dump")
	if err := os.WriteFile(file, []byte(dump), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := svctrace(t, t.Context(), ns, append([]string{"web", "-n", "ns", dumpFlag, file, "-o", "json"}, args...)...)
	if code != ExitOK && code != ExitFindings {
		t.Fatalf("trace: exit %d\n%s", code, errOut)
	}
	var traced render.DataplaneDocument
	if err := json.Unmarshal([]byte(out), &traced); err != nil {
		t.Fatal(err)
	}
	var want, got render.DataplaneDocument
	if err := json.Unmarshal(state, &got); err != nil {
		t.Fatalf("%v\n%s", err, state)
	}
	want.Dataplane, want.Findings = traced.Dataplane, nil
	for _, f := range traced.Findings {
		if f.Where != nil {
			want.Findings = append(want.Findings, f)
		}
	}
	for _, d := range []*render.DataplaneDocument{&want, &got} {
		for i := range d.Dataplane {
			d.Dataplane[i].Source, d.Dataplane[i].SavedAt = "", "" // the dump's name and time
		}
	}
	gotDrift := got
	gotDrift.Findings = nil
	for _, f := range got.Findings {
		if f.Where != nil {
			gotDrift.Findings = append(gotDrift.Findings, f)
		}
	}
	if got.Kind != render.DataplaneKind || got.Service.Name != "web" || len(got.Dataplane) == 0 {
		t.Errorf("%s: /debug/state answered %s", what, state)
	}
	if diff := cmp.Diff(want.Dataplane, gotDrift.Dataplane, dataplanetest.EquateAddrs); diff != "" {
		t.Errorf("%s: /debug/state's hop differs from the trace's (-trace +state):\n%s", what, diff)
	}
	if diff := cmp.Diff(want.Findings, gotDrift.Findings, dataplanetest.EquateAddrs); diff != "" {
		t.Errorf("%s: /debug/state's drift differs from the trace's (-trace +state):\n%s", what, diff)
	}
	return got
}

func hasDrift(d render.DataplaneDocument) bool {
	for _, f := range d.Findings {
		if f.Where != nil {
			return true
		}
	}
	return false
}

func getState(t *testing.T, url string, status int) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status {
		t.Errorf("GET %s: %d, want %d\n%s", url, resp.StatusCode, status, b)
	}
	return b
}
