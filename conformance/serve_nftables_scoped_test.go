package conformance

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/knftables"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// serveScopedBesideKubeProxy runs scoped `--serve --proxy-mode nftables
// --once` in the node's namespace, beside the real kube-proxy (nftables
// mode), from the API server, for a Service labelled for svctrace that
// selects fixture one's pod: kube-proxy's tables are left as they were,
// table svctrace carries the node's connections to the Service's
// ClusterIP to the pod, a kube-proxy sync leaves table svctrace alone,
// the trace reads it without drift, and --cleanup deletes table svctrace
// and nothing else.
func serveScopedBesideKubeProxy(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	plugin := c.PluginBinary()
	if plugin == "" {
		t.Fatal("no kubectl-svctrace built for the cluster (no go toolchain?)")
	}
	kube0 := kubeProxyDumps(ctx, t, c)
	svc := createServedService(ctx, t, c, "served")
	serve := func(args ...string) string {
		t.Helper()
		out, err := c.Node.Exec(ctx, plugin, append([]string{"--serve", "--proxy-mode", "nftables", "--node", c.Node.Name,
			"--kubeconfig", c.Kubeconfig, "--cluster-cidr", harness.ClusterCIDR}, args...)...)
		if err != nil {
			t.Fatalf("--serve %v in the node: %v\n%s", args, err, out)
		}
		return string(out)
	}
	serve("--once")
	if d := cmp.Diff(kube0, kubeProxyDumps(ctx, t, c)); d != "" {
		t.Errorf("scoped --serve changed kube-proxy's tables (-before +after):\n%s", d)
	}
	if got := httpGet(ctx, t, c, svc.Spec.ClusterIP); !strings.Contains(got, "one-0") {
		t.Errorf("GET http://%s/ from the node through table svctrace: %q, want fixture one's pod (one-0)", svc.Spec.ClusterIP, got)
	}

	own0 := svctraceDump(ctx, t, c)
	trigger := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy-sync", Namespace: namespace},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}}}
	trigger, err := c.Client.CoreV1().Services(namespace).Create(ctx, trigger, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Services(namespace).Delete(context.Background(), trigger.Name, metav1.DeleteOptions{})
	})
	pollNFT(ctx, t, c, "kube-proxy programming "+trigger.Name, func(rs *nftables.Ruleset) bool {
		_, ok := rs.KubeProxy(knftables.IPv4Family).Set(nftables.SetClusterIPs).Lookup([]string{trigger.Spec.ClusterIP})
		return ok
	})
	if d := cmp.Diff(own0, svctraceDump(ctx, t, c)); d != "" {
		t.Errorf("a kube-proxy sync changed table svctrace (-before +after):\n%s", d)
	}

	rs, err := nftRuleset(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	_, tr := traceOf(ctx, t, c, "served", trace.DataplaneInput{NFT: rs, NFTName: "nft"})
	if f := dataplaneFindings(tr); len(f) > 0 || !hasFinding(tr, trace.ServeOwnsService) {
		t.Errorf("trace of served on the node: dataplane findings %v, ServeOwnsService %v; want none and true", f, hasFinding(tr, trace.ServeOwnsService))
	}
	if len(tr.Dataplane) == 0 || len(tr.Dataplane[0].Chains) == 0 || tr.Dataplane[0].Chains[0].Table != "ip svctrace" {
		t.Errorf("trace of served does not list table svctrace: %+v", tr.Dataplane)
	}

	kube1 := kubeProxyDumps(ctx, t, c)
	serve("--cleanup")
	rs, err = nftRuleset(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Table(knftables.IPv4Family, "svctrace") != nil || rs.Table(knftables.IPv6Family, "svctrace") != nil {
		t.Error("table svctrace left after --cleanup")
	}
	if d := cmp.Diff(kube1, kubeProxyDumps(ctx, t, c)); d != "" {
		t.Errorf("--cleanup changed kube-proxy's tables (-before +after):\n%s", d)
	}
}

// createServedService creates Service name labelled for scoped --serve,
// selecting fixture one's pod, and waits for its EndpointSlice (labelled
// too: the EndpointSlice controller copies the Service's labels).
func createServedService(ctx context.Context, t *testing.T, c *harness.Cluster, name string) *corev1.Service {
	t.Helper()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace,
		Labels: map[string]string{dataplane.LabelServiceProxyName: dataplane.ServeProxyName}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "one"},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(podPort), Protocol: corev1.ProtocolTCP}}}}
	svc, err := c.Client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Client.CoreV1().Services(namespace).Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := c.Client.DiscoveryV1().EndpointSlices(namespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
		if err != nil {
			return false, nil
		}
		for _, s := range list.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready && s.Labels[dataplane.LabelServiceProxyName] == dataplane.ServeProxyName {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("no ready endpoint in a labelled EndpointSlice of %s: %v", name, err)
	}
	return svc
}

// kubeProxyDumps are the node's kube-proxy tables, ip and ip6.
func kubeProxyDumps(ctx context.Context, t *testing.T, c *harness.Cluster) map[knftables.Family]string {
	t.Helper()
	rs, err := nftRuleset(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	out := map[knftables.Family]string{}
	for _, fam := range []knftables.Family{knftables.IPv4Family, knftables.IPv6Family} {
		if tbl := rs.KubeProxy(fam); tbl != nil {
			out[fam] = tbl.Dump()
		}
	}
	return out
}

// svctraceDump is the node's table ip svctrace.
func svctraceDump(ctx context.Context, t *testing.T, c *harness.Cluster) string {
	t.Helper()
	rs, err := nftRuleset(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	tbl := rs.Table(knftables.IPv4Family, "svctrace")
	if tbl == nil {
		t.Fatal("no table ip svctrace on the node")
	}
	return tbl.Dump()
}

// pollNFT waits until done holds for the node's ruleset.
func pollNFT(ctx context.Context, t *testing.T, c *harness.Cluster, what string, done func(*nftables.Ruleset) bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		rs, err := nftRuleset(ctx, c)
		return err == nil && done(rs), nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// httpGet answers GET http://ip:80/ from the node's namespace.
func httpGet(ctx context.Context, t *testing.T, c *harness.Cluster, ip string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(ip, "80")+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Node.HTTPClient(3 * time.Second).Do(req)
	if err != nil {
		return fmt.Sprintf("error: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
