package trace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

func notFound(in Input) Finding {
	f := Finding{
		ID:       ServiceNotFound,
		Severity: SeverityError,
		Subject:  "service/" + in.Name,
		Message:  fmt.Sprintf("service %q not found in namespace %q", in.Name, in.Namespace),
		Hint:     fmt.Sprintf("list the Services there: kubectl get svc -n %s", in.Namespace),
	}
	var hints []string
	if close := closeNames(in.Name, in.SimilarServices); len(close) > 0 {
		hints = append(hints, fmt.Sprintf("did you mean %s?", quoteJoin(close, " or ")))
	}
	if len(in.SameNameNamespaces) > 0 {
		hints = append(hints, fmt.Sprintf("A Service %q exists in namespace %s: add -n %s.",
			in.Name, quoteJoin(in.SameNameNamespaces, ", "), in.SameNameNamespaces[0]))
	}
	if len(hints) > 0 {
		f.Hint = strings.Join(hints, " ")
	}
	return f
}

func serviceKindFindings(in Input, t *Trace) []Finding {
	var out []Finding
	s := in.Service
	subject := "service/" + s.Name
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		out = append(out, Finding{
			ID: ExternalNameService, Severity: SeverityInfo, Subject: subject,
			Message: fmt.Sprintf("ExternalName service: DNS answers with a CNAME to %q; no endpoints, no proxying", s.Spec.ExternalName),
			Hint:    fmt.Sprintf("check that %s resolves from a pod: kubectl run -it --rm dnscheck --image=busybox --restart=Never -- nslookup %s", s.Spec.ExternalName, s.Spec.ExternalName),
		})
	}
	if t.Service.Headless {
		who := "the ready pod IPs"
		if s.Spec.PublishNotReadyAddresses {
			who = "every published pod IP, ready or not,"
		}
		out = append(out, Finding{
			ID: HeadlessService, Severity: SeverityInfo, Subject: subject,
			Message: "headless service (clusterIP: None): DNS returns " + who + " directly, and kube-proxy programs no rules",
			Hint:    "clients must connect to the pod port (targetPort) since no port translation happens",
		})
	}
	if s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		out = append(out, Finding{
			ID: SessionAffinityEnabled, Severity: SeverityInfo, Subject: subject,
			Message: fmt.Sprintf("sessionAffinity ClientIP: each client IP sticks to one endpoint for %ds", t.Service.AffinityTimeoutSeconds),
			Hint:    "uneven load or one client always hitting a bad pod is expected with affinity; set sessionAffinity: None to spread clients",
		})
	}
	return out
}

func gapFindings(gaps []Gap) []Finding {
	var out []Finding
	for _, g := range gaps {
		where := ""
		nsFlag := ""
		if g.Namespace != "" {
			where = " in namespace " + g.Namespace
			nsFlag = " -n " + g.Namespace
		}
		hint := fmt.Sprintf("check your rights: kubectl auth can-i %s %s%s; deploy/clusterrole.yaml grants what svctrace reads", g.Verb, g.Resource, nsFlag)
		if !g.Forbidden {
			hint = "retry; if it persists check the API server and your network"
		}
		out = append(out, Finding{
			ID: AccessDenied, Severity: SeverityWarning, Subject: g.Resource,
			Message: fmt.Sprintf("could not %s %s%s: %s; the trace lacks that data", g.Verb, g.Resource, where, g.Reason),
			Hint:    hint,
		})
	}
	return out
}

// closeNames returns the candidates within a small edit distance of name,
// or sharing a prefix with it, closest first.
func closeNames(name string, candidates []string) []string {
	type scored struct {
		name string
		d    int
	}
	var hits []scored
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := editDistance(name, c)
		if d <= 2 || (len(name) >= 4 && (strings.HasPrefix(c, name) || strings.HasPrefix(name, c))) {
			hits = append(hits, scored{c, d})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].d != hits[j].d {
			return hits[i].d < hits[j].d
		}
		return hits[i].name < hits[j].name
	})
	var out []string
	for i, h := range hits {
		if i == 3 {
			break
		}
		out = append(out, h.name)
	}
	return out
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func quoteJoin(names []string, sep string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, sep)
}
