package trace

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// nftHop walks the node's nftables ruleset and compares it with what
// kube-proxy's nftables mode should have written for the Service.
func nftHop(in Input, v nodeView) (*DataplaneHop, []Finding, error) {
	d := in.Dataplane
	family := knftables.IPv4Family
	if len(in.Service.Spec.IPFamilies) > 0 && in.Service.Spec.IPFamilies[0] == corev1.IPv6Protocol {
		family = knftables.IPv6Family
	}
	opts := nftables.ExpectOptions{Family: family, NodeName: v.name, Zone: v.zone}
	if v.clusterCIDR.IsValid() {
		opts.ClusterCIDR = v.clusterCIDR.String()
	}
	exp, err := nftables.Expected(in.Service, slicePtrs(in.EndpointSlices), opts)
	if err != nil {
		return nil, nil, err
	}
	hop := &DataplaneHop{Node: v.name, Mode: "nftables", Source: d.NFTName}
	table := d.NFT.KubeProxy(family)
	diffs := driftUnlessUnread(in, func() []dataplane.Diff { return nftables.Drift(exp, table) })
	findings := diffFindings(diffs, "nftables/", nftables.Place, in.Name)
	for _, p := range servicePackets(in.Service, v, d.Port) {
		outs, err := nftables.Walk(d.NFT, nftables.Packet{Proto: p.Protocol, Src: p.Source, Dst: p.Dest, DstPort: p.Port, Entry: p.From}, nftables.WalkOptions{LocalAddrs: v.ips})
		if err != nil {
			return nil, nil, fmt.Errorf("walk nftables %s: %w", p.Dest, err)
		}
		hop.Walks = append(hop.Walks, nftWalk(p, outs))
	}
	if table != nil {
		hop.Chains = nftListings(exp, table, string(family)+" kube-proxy")
	}
	hop.Chains = markNFTDrift(hop.Chains, diffs, string(family)+" kube-proxy")
	return hop, findings, nil
}

// nftWalk turns the walk's outcomes into the trace's: the steps are the
// rules that fired, shared up to the numgen rule where the path forks and
// only each outcome's share goes on.
func nftWalk(p dataplane.Packet, outs []nftables.Outcome) dataplane.Walk {
	w := dataplane.Walk{Packet: p}
	seen := map[string]bool{}
	for i, o := range outs {
		out := dataplane.Outcome{Verdict: dataplane.Verdict(strings.ToUpper(string(o.Kind))), Probability: o.Probability, Masquerade: o.Masquerade, Note: o.Detail}
		if o.Kind == nftables.OutcomeDNAT {
			out.Target = o.Target.String()
		}
		branch, reach := 0, 1.0
		for _, s := range o.Steps {
			if len(out.Chains) == 0 || out.Chains[len(out.Chains)-1] != s.Chain {
				out.Chains = append(out.Chains, s.Chain)
			}
			if s.Numgen {
				branch, reach = i+1, o.Probability
			}
			if s.Skipped && out.Note == "" {
				out.Note = s.Chain + ": " + s.Note
			}
			key := fmt.Sprintf("%d/%s/%d", branch, s.Chain, s.Position)
			if !seen[key] {
				seen[key] = true
				step := dataplane.Step{Table: s.Table, Chain: s.Chain, Line: s.Line, Rule: s.Rule, Matched: true, Note: s.Note, Probability: reach, Branch: branch, Handle: s.Handle}
				if s.Numgen {
					step.Kind = dataplane.StepFork
				}
				w.Steps = append(w.Steps, step)
			}
		}
		out.Path = nftPath(o.Kind, out)
		if o.Kind == nftables.OutcomeNoMatch {
			// Left untranslated (e.g. a numgen value without a map
			// element): judgeOutcomes explains an untranslated packet.
			out.Verdict, out.Path, out.Untranslated = dataplane.VerdictAccept, "ACCEPT", true
		}
		w.Outcomes = append(w.Outcomes, out)
	}
	return w
}

// nftPath is the per-service chains of an outcome, the chain that refused
// it if it was refused, and its verdict.
func nftPath(kind nftables.OutcomeKind, out dataplane.Outcome) string {
	path := serviceChainsOnly(out.Chains)
	if kind == nftables.OutcomeReject || kind == nftables.OutcomeDrop {
		if c := decidingChain(out.Chains); c != "" && !slices.Contains(path, c) {
			path = append(path, c)
		}
	}
	return strings.Join(append(path, verdictText(out)), " → ")
}

// nftListings lists the chains kube-proxy writes for the Service as the
// node has them; a missing one is marked.
func nftListings(exp *nftables.ExpectedService, table *nftables.Table, tableName string) []dataplane.Listing {
	var out []dataplane.Listing
	for _, p := range exp.Ports {
		for _, ec := range p.Chains {
			l := dataplane.Listing{Table: tableName, Name: ec.Name, Rules: []dataplane.RuleLine{}, ServicePort: p.Name.Namespace + "/" + p.Name.Name}
			if p.Name.Port != "" {
				l.ServicePort += ":" + p.Name.Port
			}
			c := table.Chain(ec.Name)
			if c == nil {
				l.Drift = "NFTServiceMissing"
			}
			for _, r := range chainRules(c) {
				text := r.Text()
				if r.Handle != 0 {
					// JSON listings have no line numbers; the handle is how
					// nft -a names the rule.
					text += " # handle " + strconv.Itoa(r.Handle)
				}
				at := dataplane.Locator{Mode: dataplane.ModeNFTables, Family: string(table.Family), Table: table.Name, Chain: ec.Name, Line: r.Line, Handle: r.Handle}
				at.Endpoint, _ = r.DNATTarget()
				l.Rules = append(l.Rules, dataplane.RuleLine{Line: r.Line, Text: text, Where: at})
			}
			out = append(out, l)
		}
	}
	return out
}

func chainRules(c *nftables.Chain) []*nftables.Rule {
	if c == nil {
		return nil
	}
	return c.Rules
}

// decidingChain is the chain that refused the packet, which says why (no
// endpoints, firewall, unknown cluster IP): the last one, or the one that
// sent it to the shared reject-chain.
func decidingChain(chains []string) string {
	n := len(chains)
	switch {
	case n == 0:
		return ""
	case chains[n-1] == nftables.ChainReject && n > 1:
		return chains[n-2]
	}
	return chains[n-1]
}

// serviceChainsOnly keeps the per-service nftables chains of a path.
func serviceChainsOnly(chains []string) []string {
	var out []string
	for _, c := range chains {
		if c == "services" || c == "nodeports" || strings.Contains(c, "/") {
			out = append(out, c)
		}
	}
	return out
}

func verdictText(o dataplane.Outcome) string {
	if o.Target != "" {
		return string(o.Verdict) + " " + o.Target
	}
	return string(o.Verdict)
}
