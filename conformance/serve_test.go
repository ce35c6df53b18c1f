package conformance

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// serveMatchesKubeProxy programs a fresh network namespace with
// `kubectl-svctrace --serve --replace-kube-proxy --once` from the objects
// the real kube-proxy of node dump saw, and wants every KUBE- chain of the
// nat and filter tables, and every jump to one from a base chain, rule for
// rule as kube-proxy wrote them (counters aside).
func serveMatchesKubeProxy(ctx context.Context, t *testing.T, c *harness.Cluster, node *iptables.Dump) {
	t.Helper()
	plugin := c.PluginBinary()
	if plugin == "" {
		t.Fatal("no kubectl-svctrace built for the cluster (no go toolchain?)")
	}
	dir := t.TempDir()
	writeClusterObjects(ctx, t, c, dir)
	ns := netnstest.New(t, "serve")
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, plugin, "--serve", "--replace-kube-proxy", "--once",
		"--proxy-mode", "iptables", "--node", c.Node.Name, "-f", dir, "--cluster-cidr", harness.ClusterCIDR)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("--serve --once in %s: %v\n%s", ns, err, out)
	}
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "iptables-save").Output()
	if err != nil {
		t.Fatalf("iptables-save in %s: %v", ns, err)
	}
	served, err := iptables.Parse(string(out))
	if err != nil {
		t.Fatalf("parse the served rules: %v", err)
	}
	if d := cmp.Diff(kubeRules(node), kubeRules(served)); d != "" {
		t.Errorf("rules programmed by --serve differ from kube-proxy's (-kube-proxy +serve):\n%s", d)
	}
}

// kubeRules is every rule of a KUBE- chain and every base-chain rule that
// jumps to one, by table and chain, in order; a chain without rules is
// listed empty so that a missing one shows.
func kubeRules(d *iptables.Dump) map[string]string {
	out := map[string]string{}
	for _, tbl := range d.Tables {
		if tbl.Name != "nat" && tbl.Name != "filter" {
			continue
		}
		for _, ch := range tbl.Chains {
			own := strings.HasPrefix(ch.Name, "KUBE-")
			var rules []string
			for _, r := range serviceOrder(ch.Rules) {
				text := ruleText(r)
				if own || strings.Contains(text, "-j KUBE-") {
					rules = append(rules, text)
				}
			}
			if own || len(rules) > 0 {
				out[tbl.Name+" "+ch.Name] = strings.Join(rules, "\n") + "\n"
			}
		}
	}
	return out
}

// writeClusterObjects saves the Services, EndpointSlices, Nodes and
// ServiceCIDRs of the cluster as the YAML -f reads.
func writeClusterObjects(ctx context.Context, t *testing.T, c *harness.Cluster, dir string) {
	t.Helper()
	svcs, err := c.Client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slices, err := c.Client.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cidrs, err := c.Client.NetworkingV1().ServiceCIDRs().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewYAMLSerializer(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme)
	var b strings.Builder
	var objs []runtime.Object
	for i := range svcs.Items {
		svcs.Items[i].Kind, svcs.Items[i].APIVersion = "Service", "v1"
		objs = append(objs, &svcs.Items[i])
	}
	for i := range slices.Items {
		slices.Items[i].Kind, slices.Items[i].APIVersion = "EndpointSlice", "discovery.k8s.io/v1"
		objs = append(objs, &slices.Items[i])
	}
	for i := range nodes.Items {
		nodes.Items[i].Kind, nodes.Items[i].APIVersion = "Node", "v1"
		objs = append(objs, &nodes.Items[i])
	}
	for i := range cidrs.Items {
		cidrs.Items[i].Kind, cidrs.Items[i].APIVersion = "ServiceCIDR", "networking.k8s.io/v1"
		objs = append(objs, &cidrs.Items[i])
	}
	for _, o := range objs {
		b.WriteString("---\n")
		if err := enc.Encode(o, &b); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "objects.yaml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serviceOrder puts a chain's per-Service rules in one order. kube-proxy
// writes the shared chains (KUBE-SERVICES, KUBE-NODEPORTS, …) one Service
// port after another in the order of a Go map, so that order differs from
// sync to sync; each port's own rules keep their order, grouped by the
// port their comment names, and rules of no port (the final jump to
// KUBE-NODEPORTS) stay last in their order.
func serviceOrder(rules []*iptables.Rule) []*iptables.Rule {
	byPort := map[string][]*iptables.Rule{}
	var ports []string
	var shared []*iptables.Rule
	for _, r := range rules {
		port, _, _ := strings.Cut(r.Comment(), " ")
		if !strings.Contains(port, "/") {
			shared = append(shared, r)
			continue
		}
		if _, ok := byPort[port]; !ok {
			ports = append(ports, port)
		}
		byPort[port] = append(byPort[port], r)
	}
	slices.Sort(ports)
	out := make([]*iptables.Rule, 0, len(rules))
	for _, p := range ports {
		out = append(out, byPort[p]...)
	}
	return append(out, shared...)
}
