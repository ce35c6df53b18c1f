package conformance

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// serveScopedBesideKubeProxyIPTables runs scoped `--serve --proxy-mode
// iptables --once` in the node's namespace, beside the real kube-proxy
// (iptables mode), from the API server, for a Service labelled for
// svctrace that selects fixture one's pod: kube-proxy's KUBE- rules are
// left as they were, the SVCT- chains carry the node's connections to the
// Service's ClusterIP to the pod, a kube-proxy sync leaves the SVCT- rules
// alone, the trace reads them without drift, and --cleanup removes the
// SVCT- rules and nothing else. Rules are compared as sorted lines:
// kube-proxy orders its shared chains from a Go map on every sync.
func serveScopedBesideKubeProxyIPTables(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	plugin := c.PluginBinary()
	if plugin == "" {
		t.Fatal("no kubectl-svctrace built for the cluster (no go toolchain?)")
	}
	kube0 := ruleLines(ctx, t, c, "KUBE-")
	svc := createServedService(ctx, t, c, "served-ipt")
	serve := func(args ...string) {
		t.Helper()
		out, err := c.Node.Exec(ctx, plugin, append([]string{"--serve", "--proxy-mode", "iptables", "--node", c.Node.Name,
			"--kubeconfig", c.Kubeconfig, "--cluster-cidr", harness.ClusterCIDR}, args...)...)
		if err != nil {
			t.Fatalf("--serve %v in the node: %v\n%s", args, err, out)
		}
	}
	serve("--once")
	if d := cmp.Diff(kube0, ruleLines(ctx, t, c, "KUBE-")); d != "" {
		t.Errorf("scoped --serve changed kube-proxy's rules (-before +after):\n%s", d)
	}
	if got := httpGet(ctx, t, c, svc.Spec.ClusterIP); !strings.Contains(got, "one-0") {
		t.Errorf("GET http://%s/ from the node through the SVCT- chains: %q, want fixture one's pod (one-0)", svc.Spec.ClusterIP, got)
	}

	own0 := ruleLines(ctx, t, c, "SVCT-")
	if len(own0) == 0 {
		t.Fatal("scoped --serve wrote no SVCT- rule")
	}
	trigger := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy-sync-ipt", Namespace: namespace},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}
	trigger, err := c.Client.CoreV1().Services(namespace).Create(ctx, trigger, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Services(namespace).Delete(context.Background(), trigger.Name, metav1.DeleteOptions{})
	})
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		return strings.Contains(strings.Join(ruleLines(ctx, t, c, "KUBE-"), "\n"), trigger.Spec.ClusterIP+"/32"), nil
	})
	if err != nil {
		t.Fatalf("kube-proxy programming %s: %v", trigger.Name, err)
	}
	if d := cmp.Diff(own0, ruleLines(ctx, t, c, "SVCT-")); d != "" {
		t.Errorf("a kube-proxy sync changed the SVCT- rules (-before +after):\n%s", d)
	}

	dump, err := iptablesSave(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	_, tr := traceOf(ctx, t, c, svc.Name, trace.DataplaneInput{IPTables: dump, IPTablesName: "iptables-save"})
	if f := dataplaneFindings(tr); len(f) > 0 || !hasFinding(tr, trace.ServeOwnsService) {
		t.Errorf("trace of %s on the node: dataplane findings %v, ServeOwnsService %v; want none and true", svc.Name, f, hasFinding(tr, trace.ServeOwnsService))
	}

	kube1 := ruleLines(ctx, t, c, "KUBE-")
	serve("--cleanup")
	if left := ruleLines(ctx, t, c, "SVCT-"); len(left) > 0 {
		t.Errorf("SVCT- rules left after --cleanup:\n%s", strings.Join(left, "\n"))
	}
	if d := cmp.Diff(kube1, ruleLines(ctx, t, c, "KUBE-")); d != "" {
		t.Errorf("--cleanup changed kube-proxy's rules (-before +after):\n%s", d)
	}
}

// ruleLines are the node's iptables-save lines (chain declarations and
// rules) that name a chain starting with prefix, sorted.
func ruleLines(ctx context.Context, t *testing.T, c *harness.Cluster, prefix string) []string {
	t.Helper()
	out, err := c.Node.Exec(ctx, "iptables-save")
	if err != nil {
		t.Fatalf("iptables-save in the node: %v\n%s", err, out)
	}
	var keep []string
	table := ""
	for l := range strings.Lines(string(out)) {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "*") {
			table = l
		}
		if strings.Contains(l, prefix) && !strings.HasPrefix(l, "#") {
			keep = append(keep, table+" "+l)
		}
	}
	slices.Sort(keep)
	return keep
}
