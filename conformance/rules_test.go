package conformance

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/harness"
)

// generate computes the rules kube-proxy should have written on the
// harness node for every Service of the cluster, with the node's real
// facts, and parses them back as iptables-save prints them.
func generate(ctx context.Context, c *harness.Cluster, live *iptables.Dump) (*expected.Ruleset, *iptables.Dump, error) {
	svcs, err := c.Client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list services: %w", err)
	}
	slices, err := c.Client.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list EndpointSlices: %w", err)
	}
	var sp []*corev1.Service
	for i := range svcs.Items {
		sp = append(sp, &svcs.Items[i])
	}
	var ep []*discoveryv1.EndpointSlice
	for i := range slices.Items {
		ep = append(ep, &slices.Items[i])
	}
	rs, err := expected.Generate(expected.Node{
		Name:       c.Node.Name,
		IPs:        []string{c.Node.IP.String()},
		LocalMode:  expected.LocalClusterCIDR,
		LocalValue: harness.ClusterCIDR,
		NFAcct:     hasNFAcct(live),
	}, sp, ep)
	if err != nil {
		return nil, nil, fmt.Errorf("generate rules: %w", err)
	}
	text, err := rs.Save()
	if err != nil {
		return nil, nil, fmt.Errorf("render generated rules: %w", err)
	}
	want, err := iptables.Parse(text)
	if err != nil {
		return nil, nil, fmt.Errorf("parse generated rules: %w", err)
	}
	return rs, want, nil
}

// ruleDiffs compares, for every service port of rs, the rules it owns in
// want and in got (see serviceRules), and returns a diff per port that
// differs. It also reports per-service chains of got that no port owns.
func ruleDiffs(rs *expected.Ruleset, want, got *iptables.Dump) map[string]string {
	out := map[string]string{}
	owned := map[string]bool{}
	for _, sp := range rs.Services {
		for _, ch := range sp.OwnChains() {
			owned[ch] = true
		}
		if d := cmp.Diff(lines(serviceRules(want, sp)), lines(serviceRules(got, sp))); d != "" {
			out[sp.ID] = "(-generated +node):\n" + d
		}
	}
	var stale []string
	if nat := got.Table("nat"); nat != nil {
		for _, ch := range nat.Chains {
			if expected.IsServiceChain(ch.Name) && !owned[ch.Name] {
				stale = append(stale, ch.Name)
			}
		}
	}
	if len(stale) > 0 {
		out["(no service)"] = "chains on the node that no service port owns: " + strings.Join(stale, ", ")
	}
	return out
}

// serviceRules collects what service port sp owns in d, keyed "table
// chain": each of its own chains whole (present or "absent"), and the rules
// of shared chains whose comment names the port. kube-proxy writes the rules
// of different services in random order, so shared chains are compared per
// service; within one service the order is kube-proxy's and must match.
func serviceRules(d *iptables.Dump, sp *expected.ServicePort) map[string][]string {
	out := map[string][]string{}
	for _, name := range sp.OwnChains() {
		ch := d.Chain("nat", name)
		if ch == nil {
			out["nat "+name] = []string{"absent"}
			continue
		}
		out["nat "+name] = ruleTexts(ch.Rules)
	}
	for _, tbl := range d.Tables {
		for _, ch := range tbl.Chains {
			if expected.IsServiceChain(ch.Name) {
				continue
			}
			for _, r := range ch.Rules {
				if first, _, _ := strings.Cut(r.Comment(), " "); first == sp.ID {
					out[tbl.Name+" "+ch.Name] = append(out[tbl.Name+" "+ch.Name], ruleText(r))
				}
			}
		}
	}
	return out
}

// hasNFAcct reports whether kube-proxy could create its nfacct counters on
// the node, a kernel fact (module nfnetlink_acct) without a tool to read it
// in the namespace. It shows in the rule dropping INVALID packets, which
// belongs to no Service, so reading it from the node's dump does not make
// the per-service comparison circular.
func hasNFAcct(d *iptables.Dump) bool {
	ch := d.Chain("filter", "KUBE-FORWARD")
	if ch == nil {
		return false
	}
	for _, r := range ch.Rules {
		if strings.Contains(r.Text, "--nfacct-name ct_state_invalid_dropped_pkts") ||
			strings.Contains(r.Text, "--nfacct-name  ct_state_invalid_dropped_pkts") {
			return true
		}
	}
	return false
}

var counters = regexp.MustCompile(`^\[\d+:\d+\] `)

// ruleText is the rule as iptables-save prints it, without counters.
func ruleText(r *iptables.Rule) string {
	return counters.ReplaceAllString(strings.TrimSpace(r.Text), "")
}

func ruleTexts(rules []*iptables.Rule) []string {
	out := []string{}
	for _, r := range rules {
		out = append(out, ruleText(r))
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sharedRules collects the rules of d that belong to no service port:
// kube-proxy's fixed rules and the jumps from built-in chains, keyed
// "table chain", in order.
func sharedRules(d *iptables.Dump, rs *expected.Ruleset) map[string][]string {
	ids := map[string]bool{}
	for _, sp := range rs.Services {
		ids[sp.ID] = true
	}
	out := map[string][]string{}
	for _, tbl := range d.Tables {
		for _, ch := range tbl.Chains {
			if expected.IsServiceChain(ch.Name) {
				continue
			}
			for _, r := range ch.Rules {
				if first, _, _ := strings.Cut(r.Comment(), " "); !ids[first] {
					out[tbl.Name+" "+ch.Name] = append(out[tbl.Name+" "+ch.Name], ruleText(r))
				}
			}
		}
	}
	return out
}

// lines joins each chain's rules into one text, so that a diff shows whole
// rules line by line instead of eliding them.
func lines(m map[string][]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = strings.Join(v, "\n") + "\n"
	}
	return out
}
