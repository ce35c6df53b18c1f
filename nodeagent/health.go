package nodeagent

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/svctrace/kubectl-svctrace/snapshot"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Finding IDs of node mode (documented in trace.Catalog).
const (
	NodeAgentNotRun          = "NodeAgentNotRun"
	KubeProxyNotRunning      = "KubeProxyNotRunning"
	KubeProxyUnhealthy       = "KubeProxyUnhealthy"
	KubeProxyHung            = "KubeProxyHung"
	KubeProxyRestoreFailures = "KubeProxyRestoreFailures"
	MixedIPTablesBackends    = "MixedIPTablesBackends"
	KubeProxyModeDiffers     = "KubeProxyModeDiffers"
)

// HungAfter is how far the last sync may lag behind the last queued
// change before kube-proxy counts as hung (its own healthz allows about
// twice its sync period, 30 s by default).
const HungAfter = 2 * time.Minute

// Health is kube-proxy's state on a node, read from its endpoints.
type Health struct {
	// Answering is false when neither /healthz nor /metrics answered.
	Answering bool
	// Healthy is /healthz answering 200.
	Healthy bool
	// LastSync and LastQueued come from kubeproxy_sync_proxy_rules_last_*
	// metrics; zero when unknown.
	LastSync, LastQueued time.Time
	// RestoreFailures counts failed iptables-restore (or nft) runs.
	RestoreFailures float64
	HealthzBody     string
}

// ReadHealth reads kube-proxy's health from the snapshot.
func ReadHealth(s *snapshot.Snapshot) Health {
	hz, m := section(s, snapshot.Healthz), section(s, snapshot.Metrics)
	h := Health{
		Answering:   hz.Output != "" || m.Error == "",
		Healthy:     hz.Error == "",
		HealthzBody: strings.TrimSpace(hz.Output),
	}
	if m.Error != "" {
		return h
	}
	metrics := parseMetrics(m.Output)
	h.LastSync = unix(metrics["kubeproxy_sync_proxy_rules_last_timestamp_seconds"])
	h.LastQueued = unix(metrics["kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds"])
	h.RestoreFailures = metrics["kubeproxy_sync_proxy_rules_iptables_restore_failures_total"] +
		metrics["kubeproxy_sync_proxy_rules_nftables_sync_failures_total"]
	return h
}

// HealthFindings are kube-proxy's own findings on the snapshot's node.
func HealthFindings(s *snapshot.Snapshot) []trace.Finding {
	subject := "node/" + s.Node
	h := ReadHealth(s)
	var out []trace.Finding
	if !h.Answering {
		hz := section(s, snapshot.Healthz)
		out = append(out, trace.Finding{ID: KubeProxyNotRunning, Severity: trace.SeverityError, Subject: subject,
			Message: fmt.Sprintf("kube-proxy does not answer on node %s (%s: %s), so nothing keeps its rules up to date", s.Node, hz.Source, hz.Error),
			Hint:    "check the kube-proxy pod on the node: kubectl -n kube-system get pods -o wide --field-selector spec.nodeName=" + s.Node + " and its logs"})
	} else if !h.Healthy {
		out = append(out, trace.Finding{ID: KubeProxyUnhealthy, Severity: trace.SeverityError, Subject: subject,
			Message: fmt.Sprintf("kube-proxy on node %s reports itself unhealthy: %s", s.Node, clip(h.HealthzBody, 200)),
			Hint:    "read kube-proxy's log on the node for the failing sync"})
	}
	if !h.LastQueued.IsZero() && h.LastQueued.Sub(h.LastSync) > HungAfter {
		out = append(out, trace.Finding{ID: KubeProxyHung, Severity: trace.SeverityError, Subject: subject,
			Message: fmt.Sprintf("kube-proxy on node %s last synced its rules at %s, %s before the last change it queued: it is stuck", s.Node, h.LastSync.UTC().Format(time.RFC3339), h.LastQueued.Sub(h.LastSync).Round(time.Second)),
			Hint:    "restart kube-proxy on the node and read its log (a hung iptables-restore or a lock held by another process)"})
	}
	if h.RestoreFailures > 0 {
		out = append(out, trace.Finding{ID: KubeProxyRestoreFailures, Severity: trace.SeverityWarning, Subject: subject,
			Message: fmt.Sprintf("kube-proxy on node %s counted %g failed rule restores", s.Node, h.RestoreFailures),
			Hint:    "read kube-proxy's log for the failing iptables-restore or nft run"})
	}
	legacy, nft := section(s, snapshot.IPTablesLegacy), section(s, snapshot.IPTablesNFT)
	if hasKubeRules(legacy.Output) && hasKubeRules(nft.Output) {
		used, other, usedName, otherName := nft, legacy, "nf_tables", "legacy"
		if IPTablesSection(s).Name == snapshot.IPTablesLegacy {
			used, other, usedName, otherName = legacy, nft, "legacy", "nf_tables"
		}
		out = append(out, trace.Finding{ID: MixedIPTablesBackends, Severity: trace.SeverityError, Subject: subject,
			Message: fmt.Sprintf("node %s holds kube-proxy rules in both iptables backends: the %s backend, which the node's iptables uses and the trace walks, holds %s; the %s backend holds %s too. Packets traverse both, so the stale set still rewrites or drops them",
				s.Node, usedName, kubeRuleSummary(used.Output), otherName, kubeRuleSummary(other.Output)),
			Hint: fmt.Sprintf("make every component use the %s backend (kubernetes/kubernetes#107965), then remove the %s backend's KUBE- chains (iptables-%s-save | grep KUBE lists them)", usedName, otherName, saveTool(otherName))})
	}
	return out
}

// parseMetrics reads Prometheus text samples by metric name: counters
// (_total) summed over their labels, other samples the largest (the
// newest timestamp of the IP families).
func parseMetrics(text string) map[string]float64 {
	out := map[string]float64{}
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		name, _, _ := strings.Cut(f[0], "{")
		v, err := strconv.ParseFloat(f[1], 64)
		switch {
		case err != nil:
		case strings.HasSuffix(name, "_total"):
			out[name] += v
		default:
			out[name] = max(out[name], v)
		}
	}
	return out
}

func unix(sec float64) time.Time {
	if sec <= 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(sec*1e9))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// kubeRuleSummary counts what an iptables-save dump holds of kube-proxy:
// its rules in KUBE- chains and the Service ports KUBE-SERVICES sends on.
func kubeRuleSummary(save string) string {
	rules, ports := 0, 0
	for line := range strings.Lines(save) {
		if !strings.HasPrefix(line, "-A KUBE-") {
			continue
		}
		rules++
		if strings.HasPrefix(line, "-A KUBE-SERVICES ") && strings.Contains(line, "-j KUBE-SVC-") {
			ports++
		}
	}
	return fmt.Sprintf("%s in KUBE- chains (%s in KUBE-SERVICES)", count(rules, "rule"), count(ports, "Service port"))
}

func saveTool(backend string) string {
	if backend == "nf_tables" {
		return "nft"
	}
	return "legacy"
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
