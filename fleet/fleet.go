// Package fleet compares one Service's dataplane across nodes
// (`--all-nodes`): a row per node with kube-proxy's mode and health, the
// drift count and where a packet to the Service ends, the nodes that
// disagree with the rest first.
package fleet

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Row is one node.
type Row struct {
	Node string `json:"node"`
	// Mode is kube-proxy's mode; empty when the node could not be read.
	Mode string `json:"mode,omitempty"`
	// KubeProxy is "healthy", "unhealthy" or "not running".
	KubeProxy string `json:"kubeProxy,omitempty"`
	// LastSync is when kube-proxy last synced its rules, when known.
	LastSync *time.Time `json:"lastSync,omitempty"`
	// Drift counts the differences between the node's rules and what
	// kube-proxy should write for the Service.
	Drift int `json:"drift"`
	// Distribution is where the first packet walked ends, with shares,
	// e.g. "DNAT 10.244.1.5:9376 50%, DNAT 10.244.2.4:9376 50%".
	Distribution string `json:"distribution"`
	// Findings are the node's dataplane and kube-proxy findings.
	Findings []trace.Finding `json:"findings"`
	// Error is why the node could not be read.
	Error string `json:"error,omitempty"`
	// Disagrees is set for a node that differs from the rest or has a
	// problem of its own; such nodes are listed first.
	Disagrees bool `json:"disagrees"`
	// Why says what makes the node disagree.
	Why []string `json:"why,omitempty"`
}

// Distribution summarises a walk's outcomes, sorted for comparison.
func Distribution(outcomes []dataplane.Outcome) string {
	parts := make([]string, 0, len(outcomes))
	for _, o := range outcomes {
		s := string(o.Verdict)
		if o.Target != "" {
			s += " " + o.Target
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", s, o.Probability*100))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// KubeProxyModeDiffers is the finding of a node whose kube-proxy runs in
// another mode than most nodes'.
const KubeProxyModeDiffers = "KubeProxyModeDiffers"

// Compare marks the rows that disagree with the majority (mode,
// distribution) or have findings or errors of their own, adds
// KubeProxyModeDiffers findings, and sorts disagreeing rows first.
func Compare(rows []Row) []Row {
	mode := majority(rows, func(r Row) string { return r.Mode })
	dist := majority(rows, func(r Row) string { return r.Distribution })
	for i := range rows {
		r := &rows[i]
		if r.Error != "" {
			r.Why = append(r.Why, "not read")
		}
		if r.Mode != "" && mode != "" && r.Mode != mode {
			r.Why = append(r.Why, "mode "+r.Mode+" (most nodes: "+mode+")")
			r.Findings = append(r.Findings, trace.Finding{ID: KubeProxyModeDiffers, Severity: trace.SeverityWarning, Subject: "node/" + r.Node,
				Message: fmt.Sprintf("kube-proxy on node %s runs in %s mode; most nodes run %s", r.Node, r.Mode, mode),
				Hint:    "check kube-proxy's configuration on the node (the kube-proxy ConfigMap or a node-specific flag)"})
		}
		if r.Error == "" && dist != "" && r.Distribution != dist {
			r.Why = append(r.Why, "packets end elsewhere")
		}
		if r.Drift > 0 {
			r.Why = append(r.Why, fmt.Sprintf("%d drift", r.Drift))
		}
		if r.KubeProxy != "" && r.KubeProxy != "healthy" {
			r.Why = append(r.Why, "kube-proxy "+r.KubeProxy)
		}
		r.Disagrees = len(r.Why) > 0
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		if a.Disagrees != b.Disagrees {
			if a.Disagrees {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Node, b.Node)
	})
	return rows
}

// majority is the most common non-empty value of key, or "" when no row
// has one or two values tie for most common: of two nodes that differ,
// neither is the one that disagrees with the rest.
func majority(rows []Row, key func(Row) string) string {
	count := map[string]int{}
	for _, r := range rows {
		if r.Error == "" {
			if v := key(r); v != "" {
				count[v]++
			}
		}
	}
	best, tie := "", false
	for _, v := range slices.Sorted(maps.Keys(count)) {
		switch {
		case count[v] > count[best]:
			best, tie = v, false
		case count[v] == count[best]:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}
