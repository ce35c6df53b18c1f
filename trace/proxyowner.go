package trace

import (
	"fmt"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// KubeProxySkips is reported for a Service, or EndpointSlices of it, that
// kube-proxy skips by label: another proxy owns the Service, or the slices
// say they belong to a headless one.
const KubeProxySkips = "KubeProxySkips"

// ServeOwnsService is reported for a Service labelled for scoped
// `kubectl-svctrace --serve`: kube-proxy skips it and --serve programs it in
// a layout of its own, which its dataplane hop is judged against.
const ServeOwnsService = "ServeOwnsService"

// servedByServe reports whether scoped --serve programs the Service.
func servedByServe(in Input) bool { return dataplane.ServedByServe(in.Service.Labels) }

// kubeProxySkips says why kube-proxy skips the Service, "" when it
// handles it.
func kubeProxySkips(in Input) string {
	l := in.Service.Labels
	if owner, ok := l[dataplane.LabelServiceProxyName]; ok {
		return fmt.Sprintf("labelled %s=%s: kube-proxy skips it and the proxy %q handles it", dataplane.LabelServiceProxyName, owner, owner)
	}
	if _, ok := l[dataplane.LabelHeadless]; ok {
		return fmt.Sprintf("labelled %s: kube-proxy skips it as headless", dataplane.LabelHeadless)
	}
	return ""
}

// proxyOwnerFindings says which proxy owns a Service kube-proxy skips, and
// which of its EndpointSlices kube-proxy ignores.
func proxyOwnerFindings(in Input, t *Trace) []Finding {
	subject := "service/" + in.Name
	if servedByServe(in) {
		return []Finding{{ID: ServeOwnsService, Severity: SeverityInfo, Subject: subject,
			Message: fmt.Sprintf("service labelled %s=%s: kubectl-svctrace --serve owns it beside kube-proxy, which skips it; its rules are judged in --serve's SVCT- chains (iptables mode), its table svctrace (nftables mode) or as the virtual servers --serve programs (ipvs mode), and kube-proxy rules a node holds for it are stale (StaleProxyRules)",
				dataplane.LabelServiceProxyName, dataplane.ServeProxyName),
			Hint: "on the node, --serve's /debug/state?service=" + in.Namespace + "/" + in.Name + " (metrics address) shows the same hop as --serve sees it; remove the label if kube-proxy should handle the Service"}}
	}
	if why := kubeProxySkips(in); why != "" {
		return []Finding{{ID: KubeProxySkips, Severity: SeverityInfo, Subject: subject,
			Message: "service " + why + "; no kube-proxy rule is expected for it on any node, and kube-proxy rules a node holds for it are stale (StaleProxyRules)",
			Hint:    "trace its dataplane with that proxy's own tools; remove the label if kube-proxy should handle the Service"}}
	}
	if t.Service.Headless {
		return nil // the label is right on a headless Service's slices
	}
	var ignored []string
	for _, s := range in.EndpointSlices {
		if _, ok := s.Labels[dataplane.LabelHeadless]; ok {
			ignored = append(ignored, s.Name)
		}
	}
	if len(ignored) == 0 {
		return nil
	}
	return []Finding{{ID: KubeProxySkips, Severity: SeverityWarning, Subject: subject,
		Message: fmt.Sprintf("EndpointSlice %s %s labelled %s although the Service has a cluster IP: kube-proxy ignores %s, so %s endpoints get no traffic through kube-proxy",
			limitList(ignored, 5), plural(len(ignored), "is", "are"), dataplane.LabelHeadless, plural(len(ignored), "it", "them"), plural(len(ignored), "its", "their")),
		Hint: "remove the label from the slices (the EndpointSlice controller sets it only for clusterIP: None), or have whoever writes them stop setting it"}}
}
