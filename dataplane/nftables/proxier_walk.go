package nftables

import (
	"fmt"
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// nftWalk turns the walk's outcomes into the trace's: the steps are the
// rules that fired, shared up to the numgen rule where the path forks and
// only each outcome's share goes on.
func nftWalk(p dataplane.Packet, outs []Outcome) dataplane.Walk {
	w := dataplane.Walk{Packet: p}
	seen := map[string]bool{}
	for i, o := range outs {
		out := dataplane.Outcome{Verdict: dataplane.Verdict(strings.ToUpper(string(o.Kind))), Probability: o.Probability, Masquerade: o.Masquerade, Note: o.Detail}
		if o.Kind == OutcomeDNAT {
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
		if o.Kind == OutcomeNoMatch {
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
func nftPath(kind OutcomeKind, out dataplane.Outcome) string {
	path := serviceChainsOnly(out.Chains)
	if kind == OutcomeReject || kind == OutcomeDrop {
		if c := decidingChain(out.Chains); c != "" && !slices.Contains(path, c) {
			path = append(path, c)
		}
	}
	return strings.Join(append(path, verdictText(out)), " → ")
}

// decidingChain is the chain that refused the packet, which says why (no
// endpoints, firewall, unknown cluster IP): the last one, or the one that
// sent it to the shared reject-chain.
func decidingChain(chains []string) string {
	n := len(chains)
	switch {
	case n == 0:
		return ""
	case chains[n-1] == ChainReject && n > 1:
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
