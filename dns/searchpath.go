package dns

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Candidates returns the names a glibc stub resolver asks for query, in
// order (res_nsearch): a trailing dot means only the name itself; a name
// with at least ndots dots is tried as is first, then with each search
// domain; a shorter name tries the search domains first and itself last.
// musl (Alpine) differs: it never appends search domains to a name with
// ndots or more dots.
func (rc ResolvConf) Candidates(query string) []string {
	query = strings.TrimSpace(query)
	if query == "" || query == "." {
		return nil
	}
	if strings.HasSuffix(query, ".") {
		return []string{fqdn(query)}
	}
	var out []string
	add := func(n string) {
		n = fqdn(n)
		for _, o := range out {
			if o == n {
				return
			}
		}
		out = append(out, n)
	}
	asIs := strings.Count(query, ".") >= rc.Ndots()
	if asIs {
		add(query)
	}
	for _, d := range rc.Searches {
		d = strings.TrimSuffix(d, ".")
		if d == "" {
			add(query) // "search ." is the root: the name itself
			continue
		}
		add(query + "." + d)
	}
	if !asIs {
		add(query)
	}
	return out
}

// SearchStep is one name the resolver tries.
type SearchStep struct {
	Name string
	// Matches is set when Name is one of the Service's names.
	Matches bool
}

// SearchPlan is what a pod's resolver does with one query.
type SearchPlan struct {
	Query string
	Ndots int
	Steps []SearchStep
	// Match is the index of the first step naming the Service, -1 if none.
	Match   int
	service string
	fqdn    string
	short   string
}

// PlanSearch lists the names rc makes of query and marks those e serves.
// Steps before Match may still be answered by something else (a Service of
// the same name in the pod's namespace); CheckSearchPath finds out live.
func PlanSearch(rc ResolvConf, query string, e *Expectation) SearchPlan {
	p := SearchPlan{Query: query, Ndots: rc.Ndots(), Match: -1, service: e.Service, fqdn: e.FQDN}
	// The Service's own name counts even without records: a headless
	// Service with no ready endpoint answers nothing, but the spelling is
	// right and the fix lies elsewhere.
	names := map[string]bool{e.FQDN: true}
	for _, r := range e.Records {
		names[r.Name] = true
	}
	for i, n := range rc.Candidates(query) {
		m := names[n]
		if m && p.Match < 0 {
			p.Match = i
		}
		p.Steps = append(p.Steps, SearchStep{Name: n, Matches: m})
	}
	// "name.namespace" works wherever "svc.<zone>" is searched, which every
	// ClusterFirst pod has; otherwise only the absolute name is safe.
	p.short = e.FQDN
	svcZone := "svc." + e.Zone
	for _, s := range rc.Searches {
		if strings.TrimSuffix(strings.ToLower(s), ".") == svcZone {
			p.short = e.name() + "." + e.namespace()
		}
	}
	return p
}

// Results reports DNSSearchPathMiss when no step names the Service.
func (p SearchPlan) Results() []Result {
	if p.Match >= 0 {
		return nil
	}
	return []Result{p.miss(fmt.Sprintf("querying %q tries %s; none of them is a name of service %s (%s)",
		p.Query, p.stepNames(), p.service, p.fqdn))}
}

func (p SearchPlan) miss(msg string) Result {
	return Result{
		ID: DNSSearchPathMiss, Severity: SeverityError, Subject: p.Query,
		Message: msg,
		Hint:    p.missHint(),
	}
}

func (p SearchPlan) missHint() string {
	check := "check the pod's search list with kubectl exec POD -- cat /etc/resolv.conf"
	if p.short == p.fqdn {
		// The search list does not reach svc.<zone>: only the absolute name
		// is safe from this pod.
		return fmt.Sprintf("use the absolute name %q: this pod's search list does not reach the Service's namespace; %s", p.fqdn, check)
	}
	return fmt.Sprintf("use %q (or the absolute %q); %s", p.short, p.fqdn, check)
}

func (p SearchPlan) stepNames() string {
	ns := make([]string, len(p.Steps))
	for i, s := range p.Steps {
		ns[i] = s.Name
	}
	return "[" + strings.Join(ns, " ") + "]"
}

// CheckSearchPath walks p against r like the pod's resolver: each step in
// order until one answers records of type t (or a CNAME). It reports
// DNSSearchPathMiss when an earlier, foreign name answers first or no step
// names the Service; a Service name that does not answer is left to Compare.
func CheckSearchPath(ctx context.Context, r Resolver, p SearchPlan, t RecordType) ([]Result, error) {
	if p.Match < 0 {
		return p.Results(), nil
	}
	for _, s := range p.Steps {
		a, err := r.Query(ctx, s.Name, t)
		var ue *UnreachableError
		if errors.As(err, &ue) {
			return []Result{UnreachableResult(ue)}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("walk search path for %q: %w", p.Query, err)
		}
		if len(a.OfType(t))+len(a.OfType(TypeCNAME)) == 0 {
			continue
		}
		if s.Matches {
			return nil, nil
		}
		miss := p.miss(fmt.Sprintf("querying %q resolves as %s %s before reaching %s, so the pod talks to something other than service %s",
			p.Query, s.Name, values(a.Records), p.Steps[p.Match].Name, p.service))
		// A shorter spelling would be shadowed the same way: only the
		// absolute name skips the search list.
		miss.Hint = fmt.Sprintf("use the absolute name %q (the final dot skips the search list), or take the domain of %s out of the pod's search list (dnsConfig); check it with kubectl exec POD -- cat /etc/resolv.conf", p.fqdn, s.Name)
		return []Result{miss}, nil
	}
	return nil, nil
}
