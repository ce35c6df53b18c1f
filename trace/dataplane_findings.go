package trace

import (
	"strings"
	"sync"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// severityOf is the catalog's severity for id; every emitted ID is in the
// catalog (TestEmittedIDsAreCatalogued).
func severityOf(id string) Severity {
	if sev, ok := catalogSeverity()[id]; ok {
		return sev
	}
	return SeverityWarning
}

var catalogSeverity = sync.OnceValue(func() map[string]Severity {
	m := map[string]Severity{}
	for _, e := range Catalog() {
		m[e.ID] = e.Severity
	}
	return m
})

// dataplaneHint says what to do about a difference between a node's
// rules and what kube-proxy should have written.
func dataplaneHint(id, svc string) string {
	switch {
	case strings.HasPrefix(id, "Stale"):
		return "the node has rules for endpoints or chains that are gone: take a fresh dump first (an old one shows this too); if kube-proxy runs there, its log says why it has not synced (kubectl -n kube-system logs -l k8s-app=kube-proxy --tail=100); only if no kube-proxy runs there any more, remove the rules with kube-proxy --cleanup"
	case id == "ProbabilityMismatch":
		return "kube-proxy has not synced the latest endpoints of " + svc + "; check its log for sync errors: kubectl -n kube-system logs -l k8s-app=kube-proxy --tail=100"
	case id == "IPVSAddressNotBound":
		return "kube-proxy (mode ipvs) binds every Service address to kube-ipvs0 on each sync: check it runs and its log for sync errors; ip addr show dev kube-ipvs0 lists what is bound"
	case strings.HasPrefix(id, "IPVS"):
		return "check kube-proxy (mode ipvs) runs on the node and its log for sync errors; ipvsadm -Ln shows the live table"
	case strings.HasPrefix(id, "NFT"):
		return "check kube-proxy (mode nftables) runs on the node and its log for sync errors; nft list table ip kube-proxy shows the live rules"
	default:
		return "kube-proxy on this node has not programmed " + svc + " as it should: check it runs and its log for API or sync errors (kubectl -n kube-system logs -l k8s-app=kube-proxy --tail=100); a restart forces a full sync"
	}
}

// serveHints points the drift findings of a Service scoped --serve owns at
// --serve instead of kube-proxy; kube-proxy's stale rules for it keep
// theirs.
func serveHints(fs []Finding, in Input) {
	for i := range fs {
		if fs[i].ID == string(dataplane.StaleProxyRules) {
			continue
		}
		fs[i].Hint = "kubectl-svctrace --serve on this node has not programmed " + in.Name + " as it should: check it runs (its /healthz), its log and /debug/state?service=" +
			in.Namespace + "/" + in.Name + " on its metrics address; it repairs the rules at its next full sync (--sync-period)"
	}
}
