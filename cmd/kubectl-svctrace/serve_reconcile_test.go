//go:build linux

package main

import (
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

// fullSave is every table of ns without comments and counters.
func fullSave(t *testing.T, ns string) string {
	t.Helper()
	return stripCounters(netnstest.Exec(t, ns, "", "iptables-nft-save"))
}

func kubeLines(save string) string {
	var out []string
	for _, l := range strings.Split(save, "\n") {
		if strings.Contains(l, "KUBE-") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeScopedReconcilesAndCleansUp runs scoped mode beside rules in
// kube-proxy's layout and a foreign canary: repairs by hand-made damage
// are counted, kube-proxy's and the canary's rules are never touched, and
// --cleanup restores the tables exactly.
func TestServeScopedReconcilesAndCleansUp(t *testing.T) {
	netnstest.Require(t, "ip", "iptables-nft-restore")
	ns := netnstest.New(t, "srvscope")
	ctx := t.Context()
	canary := "*nat\n:CANARY - [0:0]\n-A CANARY -j RETURN\n-A PREROUTING -j CANARY\nCOMMIT\n" +
		"*filter\n-A FORWARD -p udp -m udp --dport 9 -j DROP\nCOMMIT\n"
	netnstest.Exec(t, ns, canary, "iptables-nft-restore", "--noflush")
	eps := []string{"10.244.1.2", "10.244.2.2"}
	kubeDir, ownDir := t.TempDir(), t.TempDir()
	writeObjects(t, kubeDir, "", eps, "")
	writeObjects(t, ownDir, "service.kubernetes.io/service-proxy-name: svctrace", eps, "")
	// kube-proxy's rules for the unlabelled Services, as a real node has them.
	if code, out, errOut := svctrace(t, ctx, ns, "--serve", "--replace-kube-proxy", "--once", "--node", "node-a", "-f", kubeDir); code != 0 {
		t.Fatalf("replace --once: %d %s %s", code, out, errOut)
	}
	before := fullSave(t, ns)
	scoped := []string{"--serve", "--node", "node-a", "-f", ownDir, "--cluster-cidr", "10.244.0.0/16"}
	if code, out, errOut := svctrace(t, ctx, ns, append(scoped, "--once")...); code != 0 || strings.Contains(out, "repairs") {
		t.Fatalf("scoped --once: %d %s %s", code, out, errOut)
	}
	served := fullSave(t, ns)
	if kubeLines(served) != kubeLines(before) || !strings.Contains(served, "-j SVCT-SERVICES") {
		t.Fatalf("scoped mode changed kube-proxy's rules or wrote none of its own:\nbefore:\n%s\nafter:\n%s", before, served)
	}
	web := expected.ChainNames(expected.PortName("ns", "web", "http"), corev1.ProtocolTCP).Cluster
	own := "SVCT-" + strings.TrimPrefix(web, "KUBE-")
	netnstest.Exec(t, ns, "", "iptables-nft", "-t", "nat", "-F", own)
	netnstest.Exec(t, ns, "", "iptables-nft", "-t", "nat", "-D", "PREROUTING", "-m", "comment", "--comment", "kubernetes service portals", "-j", "SVCT-SERVICES")
	code, out, errOut := svctrace(t, ctx, ns, append(scoped, "--once")...)
	if code != 0 || !strings.Contains(out, "rules_differ=1") || !strings.Contains(out, "jump_missing=1") {
		t.Errorf("resync after damage: exit %d, want rules_differ=1 and jump_missing=1 reported:\n%s\n%s", code, out, errOut)
	}
	if got := fullSave(t, ns); got != served {
		t.Errorf("not repaired:\n got:\n%s\nwant:\n%s", got, served)
	}
	if code, out, errOut := svctrace(t, ctx, ns, "--serve", "--cleanup", "--node", "node-a"); code != 0 {
		t.Fatalf("--cleanup: %d %s %s", code, out, errOut)
	}
	if got := fullSave(t, ns); got != before {
		t.Errorf("--cleanup left or removed something:\n got:\n%s\nwant:\n%s", got, before)
	}
	code, out, errOut = svctrace(t, ctx, ns, append(scoped, "--dry-run")...)
	if code != 0 || !strings.Contains(out, "*nat\n:SVCT-SERVICES - [0:0]") || !strings.Contains(out, "-A SVCT-SVC-") {
		t.Errorf("--dry-run: exit %d, want the restore input:\n%s\n%s", code, out, errOut)
	}
	if got := fullSave(t, ns); got != before {
		t.Errorf("--dry-run changed the tables:\n%s", got)
	}
}
