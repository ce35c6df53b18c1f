package conformance

import (
	"bytes"
	"context"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// serveMatchesKubeProxyNFT programs a fresh network namespace with
// `kubectl-svctrace --serve --proxy-mode nftables --replace-kube-proxy
// --once` from the objects the real kube-proxy (nftables mode) of the
// node saw, and wants both kube-proxy tables, ip and ip6, as kube-proxy
// wrote them: the same chains with the same rules in order, sets, maps
// and elements, handles aside.
//
// Compared is nftables.Table.Dump, which lists chains by name and each
// set's elements sorted: kube-proxy creates Service chains and adds
// elements in the order of a Go map, so nft's listing order (by handle,
// and a set's own hash order) differs from one kube-proxy sync to the
// next. Nothing else is normalised; rules within a chain keep their order.
func serveMatchesKubeProxyNFT(ctx context.Context, t *testing.T, c *harness.Cluster) {
	t.Helper()
	plugin := c.PluginBinary()
	if plugin == "" {
		t.Fatal("no kubectl-svctrace built for the cluster (no go toolchain?)")
	}
	node, err := nftRuleset(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeClusterObjects(ctx, t, c, dir)
	ns := netnstest.New(t, "servenft")
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, plugin, "--serve", "--proxy-mode", "nftables", "--replace-kube-proxy",
		"--once", "--node", c.Node.Name, "-f", dir, "--cluster-cidr", harness.ClusterCIDR)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("--serve --proxy-mode nftables --once in %s: %v\n%s", ns, err, out)
	}
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "nft", "-j", "list", "ruleset").Output()
	if err != nil {
		t.Fatalf("nft -j list ruleset in %s: %v", ns, err)
	}
	served, err := nftables.ParseJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("parse the served ruleset: %v", err)
	}
	for _, fam := range []knftables.Family{knftables.IPv4Family, knftables.IPv6Family} {
		want, got := node.KubeProxy(fam), served.KubeProxy(fam)
		if want == nil || got == nil {
			t.Fatalf("table %s kube-proxy: on the node %v, served %v", fam, want != nil, got != nil)
		}
		if d := cmp.Diff(want.Dump(), got.Dump()); d != "" {
			t.Errorf("table %s kube-proxy programmed by --serve differs from kube-proxy's (-kube-proxy +serve):\n%s", fam, d)
		}
	}
}
