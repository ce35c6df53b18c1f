package conformance

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestVersionSkew runs each kube-proxy release behind the control plane
// that a node may run (harness.SkewProxyVersions: v1.34 to v1.36), on a
// node in each mode, and expects every fixture to trace as on a healthy
// node: walks that spread over the ready endpoints and no dataplane
// finding.
func TestVersionSkew(t *testing.T) {
	harness.RequireE2E(t)
	for _, version := range harness.SkewProxyVersions {
		for _, mode := range []string{"iptables", "nftables"} {
			t.Run(version+"/"+mode, func(t *testing.T) {
				ctx, c := startClusterWith(t, harness.Config{ProxyMode: mode, ProxyVersion: version})
				if got := proxyVersion(ctx, t, c); got != version {
					t.Fatalf("the node runs kube-proxy %s, want %s", got, version)
				}
				fxs := fixtures()
				deploy(ctx, t, c, fxs)
				read := func() (trace.DataplaneInput, error) {
					d, err := iptablesSave(ctx, c)
					return trace.DataplaneInput{IPTables: d, IPTablesName: "iptables-save"}, err
				}
				if mode == "nftables" {
					read = readNFT(ctx, c)
				}
				waitHealthy(ctx, t, c, fxs, read)
			})
		}
	}
}

// proxyVersion is the release the node's kube-proxy names in its log
// ("Version info" version="v1.34.4"), as it starts.
func proxyVersion(ctx context.Context, t *testing.T, c *harness.Cluster) string {
	t.Helper()
	path := filepath.Join(c.StateDir, "logs", "kube-proxy.log")
	re := regexp.MustCompile(`"Version info" version="([^"]+)"`)
	var got string
	_ = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		log, err := os.ReadFile(path)
		if m := re.FindSubmatch(log); err == nil && m != nil {
			got = string(m[1])
		}
		return got != "", nil
	})
	if got == "" {
		t.Fatalf("%s names no kube-proxy version", path)
	}
	return got
}

// waitHealthy waits until every fixture traces cleanly through the node's
// dump as read returns it, and reports what is still wrong at the end.
func waitHealthy(ctx context.Context, t *testing.T, c *harness.Cluster, fxs []fixture, read func() (trace.DataplaneInput, error)) {
	t.Helper()
	var (
		problems []string
		last     error
	)
	_ = wait.PollUntilContextTimeout(ctx, time.Second, 60*time.Second, true, func(context.Context) (bool, error) {
		var dp trace.DataplaneInput
		if dp, last = read(); last != nil {
			return false, nil
		}
		problems = healthyProblems(ctx, t, c, dp, fxs)
		return len(problems) == 0, nil
	})
	if last != nil {
		t.Fatal(last)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// healthyProblems traces every fixture through dp and lists the dataplane
// findings, the walks that disagree with the endpoints, and, for nftables,
// the chains that differ from the expectation in the table's layout.
func healthyProblems(ctx context.Context, t *testing.T, c *harness.Cluster, dp trace.DataplaneInput, fxs []fixture) []string {
	var out []string
	for _, fx := range fxs {
		for _, from := range []string{"pod", "external"} {
			dp.From = entry(from)
			in, tr := traceOf(ctx, t, c, fx.name, dp)
			if from == "pod" {
				for _, f := range dataplaneFindings(tr) {
					out = append(out, fx.name+": finding: "+f)
				}
				if dp.NFT != nil {
					out = append(out, nftChainProblems(t, in, dp.NFT.KubeProxy(knftables.IPv4Family), c.Node.Name)...)
				}
			}
			if reachable(in.Service, from) {
				for _, bad := range checkWalks(in, tr, c.Node.Name, from, dp.IPTables != nil) {
					out = append(out, fx.name+": "+bad)
				}
			}
		}
	}
	return out
}
