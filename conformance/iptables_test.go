package conformance

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/harness"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestIPTables runs kube-proxy in iptables mode and checks, for every
// fixture, the generated rules, the packet walks and the drift against the
// node's real iptables-save; then it damages the rules and expects drift.
func TestIPTables(t *testing.T) {
	harness.RequireE2E(t)
	ctx, c := startCluster(t, "iptables")
	fxs := fixtures()
	deploy(ctx, t, c, fxs)
	rs, want, dump := waitRulesMatch(ctx, t, c)

	t.Run("shared rules", func(t *testing.T) {
		if d := cmp.Diff(lines(sharedRules(want, rs)), lines(sharedRules(dump, rs))); d != "" {
			t.Errorf("rules of no service differ from kube-proxy's (-generated +node):\n%s", d)
		}
	})

	t.Run("serve programs kube-proxy's rules", func(t *testing.T) {
		serveMatchesKubeProxy(ctx, t, c, dump)
	})
	t.Run("scoped serve beside kube-proxy", func(t *testing.T) { serveScopedBesideKubeProxyIPTables(ctx, t, c) })

	for _, fx := range fxs {
		t.Run(fx.name, func(t *testing.T) {
			dp := trace.DataplaneInput{IPTables: dump, IPTablesName: "iptables-save"}
			for _, from := range []string{"pod", "external"} {
				dp.From = entry(from)
				in, tr := traceOf(ctx, t, c, fx.name, dp)
				if from == "pod" {
					if fs := dataplaneFindings(tr); len(fs) > 0 {
						t.Errorf("drift between the trace's expectation and the node:\n%s", strings.Join(fs, "\n"))
					}
				}
				if !reachable(in.Service, from) {
					continue
				}
				for _, bad := range checkWalks(in, tr, c.Node.Name, from, true) {
					t.Error(bad)
				}
			}
		})
	}

	t.Run("endpoint chain deleted", func(t *testing.T) {
		sp := rs.ServicePort(namespace, "three", "http", corev1.ProtocolTCP)
		victim := sp.ClusterEndpoints[1]
		dump := tamper(ctx, t, c, func(d *iptables.Dump) bool { return d.Chain("nat", victim.Chain) == nil },
			[]string{"-t", "nat", "-D", sp.Chains.Cluster, jumpIndex(t, dump, sp.Chains.Cluster, victim.Chain)},
			[]string{"-t", "nat", "-F", victim.Chain},
			[]string{"-t", "nat", "-X", victim.Chain})
		in, tr := traceOf(ctx, t, c, "three", trace.DataplaneInput{IPTables: dump, IPTablesName: "iptables-save"})
		if !hasFinding(tr, iptables.EndpointChainMissing) {
			t.Errorf("after deleting %s (%s): no %s finding; dataplane findings:\n%s",
				victim.Chain, victim.Address, iptables.EndpointChainMissing, strings.Join(dataplaneFindings(tr), "\n"))
		}
		got := outcomes(tr)[walkKey{sp.ID, "pod", in.Service.Spec.ClusterIP + ":80"}]
		if _, ok := got[victim.Address]; ok || len(got) != 2 {
			t.Errorf("walk after deleting %s reaches %s; want the 2 other endpoints only", victim.Address, fmtOutcomes(got))
		}
	})

	t.Run("stale endpoint chain", func(t *testing.T) {
		sp := rs.ServicePort(namespace, "nodeport", "", corev1.ProtocolTCP)
		ghost := "10.244.1.250:9376"
		chain := expected.EndpointChain(sp.ID, corev1.ProtocolTCP, ghost)
		dump := tamper(ctx, t, c, func(d *iptables.Dump) bool { return d.Chain("nat", chain) != nil },
			[]string{"-t", "nat", "-N", chain},
			[]string{"-t", "nat", "-A", chain, "-p", "tcp", "-m", "comment", "--comment", sp.ID, "-m", "tcp", "-j", "DNAT", "--to-destination", ghost},
			[]string{"-t", "nat", "-I", sp.Chains.Cluster, "2", "-m", "comment", "--comment", sp.ID + " -> " + ghost,
				"-m", "statistic", "--mode", "random", "--probability", "0.5", "-j", chain})
		in, tr := traceOf(ctx, t, c, "nodeport", trace.DataplaneInput{IPTables: dump, IPTablesName: "iptables-save"})
		if !hasFinding(tr, string(iptables.StaleEndpointChain)) {
			t.Errorf("after adding %s for %s: no %s finding; dataplane findings:\n%s",
				chain, ghost, iptables.StaleEndpointChain, strings.Join(dataplaneFindings(tr), "\n"))
		}
		got := outcomes(tr)[walkKey{sp.ID, "pod", in.Service.Spec.ClusterIP + ":80"}]
		if _, ok := got[ghost]; !ok {
			t.Errorf("walk after adding %s reaches %s; want it among the targets", ghost, fmtOutcomes(got))
		}
	})
}

// reachable reports whether the trace walks packets of svc entering from
// `from`: every Service from pods, only exposed ones from outside.
func reachable(svc *corev1.Service, from string) bool {
	return from == "pod" || svc.Spec.Type == corev1.ServiceTypeNodePort ||
		svc.Spec.Type == corev1.ServiceTypeLoadBalancer || len(svc.Spec.ExternalIPs) > 0
}

// waitRulesMatch waits until the node's rules (got) for every service port
// equal the generated ones (want, the generator's iptables-save text parsed
// back): kube-proxy syncs at most once a second, and endpoints reach it
// through watches. It reports the differences left at the end.
func waitRulesMatch(ctx context.Context, t *testing.T, c *harness.Cluster) (rs *expected.Ruleset, want, got *iptables.Dump) {
	t.Helper()
	var (
		diffs map[string]string
		last  error
	)
	// The condition uses ctx, not the poll's own context, so the last
	// reading is not cut short when the poll times out.
	_ = wait.PollUntilContextTimeout(ctx, time.Second, 60*time.Second, true, func(context.Context) (bool, error) {
		if got, last = iptablesSave(ctx, c); last != nil {
			return false, nil
		}
		if rs, want, last = generate(ctx, c, got); last != nil {
			return false, nil
		}
		diffs = ruleDiffs(rs, want, got)
		return len(diffs) == 0, nil
	})
	if last != nil {
		t.Fatal(last)
	}
	for _, id := range sortedKeys(diffs) {
		t.Errorf("rules of %s differ from kube-proxy's %s", id, diffs[id])
	}
	return rs, want, got
}

func iptablesSave(ctx context.Context, c *harness.Cluster) (*iptables.Dump, error) {
	out, err := c.Node.Exec(ctx, "iptables-save")
	if err != nil {
		return nil, fmt.Errorf("iptables-save in node %s: %w: %s", c.Node.NetNS, err, out)
	}
	d, err := iptables.Parse(string(out))
	if err != nil {
		return nil, fmt.Errorf("parse iptables-save of node %s: %w", c.Node.NetNS, err)
	}
	return d, nil
}

// jumpIndex is the 1-based position, for "iptables -D CHAIN N", of the rule
// of chain that jumps to target.
func jumpIndex(t *testing.T, d *iptables.Dump, chain, target string) string {
	t.Helper()
	if ch := d.Chain("nat", chain); ch != nil {
		for i, r := range ch.Rules {
			if r.Target.Name == target {
				return fmt.Sprint(i + 1)
			}
		}
	}
	t.Fatalf("nat %s has no rule jumping to %s", chain, target)
	return ""
}

// tamper runs iptables commands in the node and reads the rules right
// after: kube-proxy repairs them only on its next full sync. done checks
// that the dump shows the edit, so a repair in between fails the test
// instead of passing it.
func tamper(ctx context.Context, t *testing.T, c *harness.Cluster, done func(*iptables.Dump) bool, cmds ...[]string) *iptables.Dump {
	t.Helper()
	for _, args := range cmds {
		if out, err := c.Node.Exec(ctx, "iptables", append([]string{"-w"}, args...)...); err != nil {
			t.Fatalf("iptables %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	d, err := iptablesSave(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if !done(d) {
		t.Fatal("the node's rules do not show the edit: kube-proxy repaired them before they were read; run again")
	}
	return d
}
