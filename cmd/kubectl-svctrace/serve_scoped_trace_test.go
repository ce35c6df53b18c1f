//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// servedScoped makes a node namespace and programs it with scoped `--serve
// --once` from files of Services labelled for it (web, sticky, empty); it
// returns the namespace, the files' directory and the flags naming them.
func servedScoped(t *testing.T, name string) (ns, dir string, args []string) {
	t.Helper()
	netnstest.Require(t, "ip", "iptables-nft-restore")
	ns, dir = netnstest.New(t, name), t.TempDir()
	writeObjects(t, dir, "service.kubernetes.io/service-proxy-name: svctrace", []string{"10.244.1.2", "10.244.2.2"}, "")
	args = []string{"--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
	if code, out, errOut := svctrace(t, t.Context(), ns, append([]string{"--serve", "--once"}, args...)...); code != 0 {
		t.Fatalf("scoped --once: exit %d\n%s\n%s", code, out, errOut)
	}
	return ns, dir, args
}

// TestTraceJudgesScopedServe programs a node namespace with scoped
// `--serve --once` (Services labelled service-proxy-name=svctrace, SVCT-
// chains) and traces its iptables-save: the trace walks SVCT- chains, finds
// no drift, says --serve owns the Service, and reports the damage done to
// one of --serve's chains with a hint pointing at --serve.
func TestTraceJudgesScopedServe(t *testing.T) {
	ns, dir, _ := servedScoped(t, "srvtrace")
	ctx := t.Context()
	trace := func(svc string) (int, string) {
		t.Helper()
		dump := filepath.Join(t.TempDir(), "node-a.iptables-save")
		if err := os.WriteFile(dump, []byte(netnstest.Exec(t, ns, "", "iptables-nft-save")), 0o600); err != nil {
			t.Fatal(err)
		}
		// No --cluster-cidr: the trace reads it from --serve's SVCT- chains.
		code, out, errOut := svctrace(t, ctx, ns, svc, "-n", "ns", "-f", dir, "--iptables-save", dump, "--node", "node-a", "-o", "json")
		if code != ExitOK && code != ExitFindings {
			t.Fatalf("trace %s: exit %d\n%s\n%s", svc, code, out, errOut)
		}
		return code, out
	}
	for _, svc := range []string{"web", "sticky", "empty"} {
		_, out := trace(svc)
		if strings.Contains(out, `"subject": "iptables/`) || !strings.Contains(out, `"id": "ServeOwnsService"`) || strings.Contains(out, `"id": "KubeProxySkips"`) {
			t.Errorf("trace of %s on a node scoped --serve programs: want no drift and ServeOwnsService:\n%s", svc, out)
		}
		if svc != "empty" && !strings.Contains(out, `"path": "SVCT-SERVICES → SVCT-SVC-`) {
			t.Errorf("trace of %s: walks do not go through SVCT- chains:\n%s", svc, out)
		}
	}

	web := expected.ServeLayout.Chain(expected.ChainNames(expected.PortName("ns", "web", "http"), corev1.ProtocolTCP).Cluster)
	netnstest.Exec(t, ns, "", "iptables-nft", "-t", "nat", "-F", web)
	code, out := trace("web")
	if code != ExitFindings || !strings.Contains(out, `"subject": "iptables/nat/`+web+`"`) || !strings.Contains(out, "kubectl-svctrace --serve on this node has not programmed web") {
		t.Errorf("trace after flushing %s: exit %d, want its drift with a hint about --serve:\n%s", web, code, out)
	}
}
