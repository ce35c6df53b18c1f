package dns

import (
	"fmt"
	"strings"
)

func (e *Expectation) namespace() string { ns, _, _ := strings.Cut(e.Service, "/"); return ns }
func (e *Expectation) name() string      { _, n, _ := strings.Cut(e.Service, "/"); return n }

// slicesCommand lists the Service's EndpointSlices, the data CoreDNS answers from.
func (e *Expectation) slicesCommand(format string) string {
	return fmt.Sprintf("kubectl get endpointslices -n %s -l kubernetes.io/service-name=%s -o %s", e.namespace(), e.name(), format)
}

func (e *Expectation) notFound(q Question, a *Answer, want []Record) Result {
	what := a.Rcode
	if a.Rcode == RcodeSuccess {
		what = "NOERROR with no " + string(q.Type) + " records (NODATA)"
	}
	hint := "CoreDNS logs API and RBAC errors that leave its cache empty: kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50"
	if a.Rcode != RcodeSuccess && a.Rcode != RcodeNXDomain {
		hint = "the server failed rather than denied the name; " + hint
	}
	if q.Name != e.FQDN || e.Headless {
		hint = "this name comes from the EndpointSlices (ready endpoints, hostnames, port names); check them with " +
			e.slicesCommand("yaml") + "; " + hint
	}
	return Result{
		ID: DNSNameNotFound, Severity: SeverityError, Subject: q.String(),
		Message: fmt.Sprintf("the server answered %s for %s, but CoreDNS should serve %s", what, q, values(want)),
		Hint:    hint,
	}
}

func (e *Expectation) notReadyPublished(q Question, ips []string) Result {
	return Result{
		ID: DNSNotReadyEndpointPublished, Severity: SeverityWarning, Subject: q.String(),
		Message: fmt.Sprintf("the answer for %s includes %s, address(es) of not-ready endpoints, although service %s has publishNotReadyAddresses=false",
			q, strings.Join(ips, ", "), e.Service),
		Hint: "check conditions.ready with " + e.slicesCommand("yaml") +
			"; if the slices are right, the answer came from a stale cache (NodeLocal DNSCache, another resolver) or a CoreDNS replica that stopped watching: kubectl -n kube-system logs -l k8s-app=kube-dns --tail=50",
	}
}

func (e *Expectation) mismatch(q Question, want, have []Record, a *Answer) Result {
	source := fmt.Sprintf("kubectl get svc %s -n %s -o wide and %s", e.name(), e.namespace(), e.slicesCommand("wide"))
	if e.ExternalName != "" {
		source = fmt.Sprintf("kubectl get svc %s -n %s -o jsonpath='{.spec.externalName}'", e.name(), e.namespace())
	}
	return Result{
		ID: DNSAnswerMismatch, Severity: SeverityError, Subject: q.String(),
		Message: fmt.Sprintf("the server answered %s %s for %s, but CoreDNS should serve %s", a.Rcode, values(have), q, values(want)),
		Hint: "compare with " + source + "; a different answer usually means another server or cache answered " +
			"(NodeLocal DNSCache, stub domains, a hosts or rewrite rule in the Corefile: kubectl -n kube-system get configmap coredns -o yaml)",
	}
}

// values prints records as "[10.0.0.1 10.0.0.2]" or, for SRV,
// "[0 50 80 web.default.svc.cluster.local.]"; "nothing" when empty.
func values(rs []Record) string {
	if len(rs) == 0 {
		return "nothing"
	}
	rs = append([]Record(nil), rs...)
	sortRecords(rs)
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.Value
		if r.Type == TypeSRV {
			parts[i] = fmt.Sprintf("%d %d %d %s", r.Priority, r.Weight, r.Port, r.Value)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
