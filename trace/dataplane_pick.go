package trace

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// pickNode chooses whose dump this is when nobody said (no --node, no
// client pod): of the nodes hosting the Service's pods or endpoints, the
// one whose expected rules differ least from the dump. Local traffic
// policies, topology hints and the node's addresses make those rules
// differ per node, and judging a dump against another node's rules reports
// drift that is not there. The note says how the node was chosen. Each
// candidate's expectation and drift are prepared once, without walks; the
// chosen node's are returned for its hops to reuse.
func pickNode(in Input, t *Trace, base nodeView) (nodeView, string, runs) {
	d := in.Dataplane
	if d.Node != "" || in.FromPod != nil || !d.hasDumps() || !rulesVaryByNode(in) {
		return base, "", nil
	}
	var names []string
	for _, n := range t.Nodes {
		if !n.Missing {
			names = append(names, n.Name)
		}
	}
	if len(names) < 2 {
		return base, "", nil
	}
	// The first node wins ties: with no per-node rules, every node's
	// expectation is the same.
	if i := slices.Index(names, base.name); i > 0 {
		names[0], names[i] = names[i], names[0]
	}
	best, bestCount, next := base, -1, -1
	var bestRuns runs
	for _, name := range names {
		dp := *d
		dp.Node = name
		trial := in
		trial.Dataplane = &dp
		v := resolveNode(trial, t)
		count := 0
		var rs runs
		for _, vw := range views(trial, v) {
			run, err := vw.prepare(trial, vw.v)
			if err != nil {
				count += 1000
			} else {
				count += len(diffFindings(run.diffs(), in.Name))
			}
			rs = append(rs, run)
		}
		switch {
		case bestCount < 0 || count < bestCount:
			next, best, bestCount, bestRuns = bestCount, v, count, rs
		case next < 0 || count < next:
			next = count
		}
	}
	if next == bestCount {
		return best, fmt.Sprintf("node %s assumed: the dump fits all %d nodes of the Service alike; pass --node to name its node", best.name, len(names)), bestRuns
	}
	return best, fmt.Sprintf("node %s chosen: of the Service's %d nodes, the dump fits its rules best (%d differences, the next best %d); pass --node to name its node", best.name, len(names), bestCount, next), bestRuns
}

// rulesVaryByNode tells whether kube-proxy writes different rules for the
// Service on different nodes: only Local traffic policies and topology
// hints make them differ. Otherwise every node's expectation is the same
// and trying each would only repeat the work.
func rulesVaryByNode(in Input) bool {
	s := in.Service.Spec
	if s.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal ||
		(s.InternalTrafficPolicy != nil && *s.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal) {
		return true
	}
	for _, sl := range in.EndpointSlices {
		for _, e := range sl.Endpoints {
			if e.Hints != nil {
				return true
			}
		}
	}
	return false
}
