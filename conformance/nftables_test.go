package conformance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/knftables"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestNFTables runs kube-proxy in nftables mode and checks, for every
// fixture, the packet walks and the drift against the node's real
// `nft -j list ruleset`; then it damages the ruleset and expects drift.
func TestNFTables(t *testing.T) {
	harness.RequireE2E(t)
	ctx, c := startCluster(t, "nftables")
	fxs := fixtures()
	deploy(ctx, t, c, fxs)
	waitHealthy(ctx, t, c, fxs, readNFT(ctx, c))
	t.Run("materialized table is kube-proxy's", func(t *testing.T) { checkNFTMaterialized(ctx, t, c) })
	t.Run("serve programs kube-proxy's table", func(t *testing.T) { serveMatchesKubeProxyNFT(ctx, t, c) })
	t.Run("scoped serve beside kube-proxy", func(t *testing.T) { serveScopedBesideKubeProxy(ctx, t, c) })

	t.Run("service-ips element deleted", func(t *testing.T) {
		svc, err := c.Client.CoreV1().Services(namespace).Get(ctx, "one", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		key := []string{svc.Spec.ClusterIP, "tcp", "80"}
		rs := nftTamper(ctx, t, c, func(t *nftables.Table) bool {
			_, found := t.Set(nftables.MapServiceIPs).Lookup(key)
			return !found
		}, fmt.Sprintf("delete element ip kube-proxy %s { %s }", nftables.MapServiceIPs, strings.Join(key, " . ")))
		_, tr := traceOf(ctx, t, c, "one", trace.DataplaneInput{NFT: rs, NFTName: "nft"})
		if !hasFinding(tr, nftables.NFTServiceMissing) {
			t.Errorf("after deleting the service-ips element of %s: no %s finding; dataplane findings:\n%s",
				svc.Spec.ClusterIP, nftables.NFTServiceMissing, strings.Join(dataplaneFindings(tr), "\n"))
		}
		got := outcomes(tr)[walkKey{namespace + "/one", "pod", svc.Spec.ClusterIP + ":80"}]
		for target := range got {
			if strings.Contains(target, ":") {
				t.Errorf("walk without a service-ips element still translates: %s", fmtOutcomes(got))
			}
		}
	})

	t.Run("service chain flushed", func(t *testing.T) {
		chain := nftables.ServiceChain(nftables.PortName{Namespace: namespace, Name: "three", Protocol: "tcp", Port: "http"})
		rs := nftTamper(ctx, t, c, func(t *nftables.Table) bool {
			ch := t.Chain(chain)
			return ch != nil && len(ch.Rules) == 0
		}, fmt.Sprintf("flush chain ip kube-proxy %s", chain))
		_, tr := traceOf(ctx, t, c, "three", trace.DataplaneInput{NFT: rs, NFTName: "nft"})
		if !hasFinding(tr, nftables.NFTEndpointMissing) {
			t.Errorf("after flushing %s: no %s finding; dataplane findings:\n%s",
				chain, nftables.NFTEndpointMissing, strings.Join(dataplaneFindings(tr), "\n"))
		}
	})
}

// nftChainProblems compares the chains kube-proxy wrote for the Service
// with the expectation in the table's layout (that of the kube-proxy
// release that wrote it): the same chains, each with as many rules. (The
// expectation holds rules as kube-proxy sends them to nft, which prints
// them differently, so their text is not compared.)
func nftChainProblems(t *testing.T, in *trace.Input, table *nftables.Table, node string) []string {
	t.Helper()
	var slices []*discoveryv1.EndpointSlice
	for i := range in.EndpointSlices {
		slices = append(slices, &in.EndpointSlices[i])
	}
	exp, err := nftables.Expected(in.Service, slices, nftables.ExpectOptions{NodeName: node, ClusterCIDR: harness.ClusterCIDR,
		Layout: nftables.DetectLayout(table)})
	if err != nil {
		t.Fatalf("expected nftables rules of %s/%s: %v", in.Namespace, in.Name, err)
	}
	want := map[string]int{}
	for _, p := range exp.Ports {
		for _, ch := range p.Chains {
			want[ch.Name] = len(ch.Rules)
		}
	}
	got := map[string]int{}
	if table != nil {
		for _, ch := range table.Chains {
			if strings.Contains(ch.Name, "-"+in.Namespace+"/"+in.Name+"/") {
				got[ch.Name] = len(ch.Rules)
			}
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		return []string{fmt.Sprintf("%s: chains and their rule counts (-expected +node):\n%s", in.Name, d)}
	}
	return nil
}

// readNFT reads the node's ruleset as the trace takes it.
func readNFT(ctx context.Context, c *harness.Cluster) func() (trace.DataplaneInput, error) {
	return func() (trace.DataplaneInput, error) {
		rs, err := nftRuleset(ctx, c)
		return trace.DataplaneInput{NFT: rs, NFTName: "nft"}, err
	}
}

func nftRuleset(ctx context.Context, c *harness.Cluster) (*nftables.Ruleset, error) {
	out, err := c.Node.Exec(ctx, "nft", "-j", "list", "ruleset")
	if err != nil {
		return nil, fmt.Errorf("nft -j list ruleset in node %s: %w: %s", c.Node.NetNS, err, out)
	}
	rs, err := nftables.ParseJSON(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("parse nft -j list ruleset of node %s: %w", c.Node.NetNS, err)
	}
	return rs, nil
}

// nftTamper runs nft commands in the node and reads the ruleset right
// after; done checks that kube-proxy did not repair it in between.
func nftTamper(ctx context.Context, t *testing.T, c *harness.Cluster, done func(*nftables.Table) bool, cmds ...string) *nftables.Ruleset {
	t.Helper()
	for _, cmd := range cmds {
		if out, err := c.Node.Exec(ctx, "nft", cmd); err != nil {
			t.Fatalf("nft %s: %v: %s", cmd, err, out)
		}
	}
	rs, err := nftRuleset(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	table := rs.KubeProxy(knftables.IPv4Family)
	if table == nil || !done(table) {
		t.Fatal("the node's ruleset does not show the edit: kube-proxy repaired it before it was read; run again")
	}
	return rs
}
