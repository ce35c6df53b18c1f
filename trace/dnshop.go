package trace

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svctrace/kubectl-svctrace/dns"
)

// DNSObservation is what a live DNS check saw; nil in Input means no query
// was made (offline input, or no --dns/--dns-server).
type DNSObservation struct {
	Server string
	// Plan is what the check asked by; Build reuses it.
	Plan    *DNSPlan
	Answers []*dns.Answer
	// Err is set when the check stopped, typically a *dns.UnreachableError.
	Err error
	// SearchPath holds what walking the --from pod's search path against
	// the server found (dns.CheckSearchPath), when SearchPathWalked.
	SearchPath       []dns.Result
	SearchPathWalked bool
}

// NotClusterDNSError means the server answered but does not serve the
// cluster's zone: it is not the cluster DNS, or --cluster-domain is wrong.
type NotClusterDNSError struct {
	Server, Probe string
	// Rcode is the answer's: NXDOMAIN, or SERVFAIL/REFUSED (empty means
	// NXDOMAIN).
	Rcode string
}

func (e *NotClusterDNSError) Error() string {
	if e.Rcode != "" && e.Rcode != "NXDOMAIN" {
		return fmt.Sprintf("%s answered %s for %s, which every cluster DNS serves: the cluster domain is not the one given, it is not this cluster's DNS, or CoreDNS cannot read the API (see its log)", e.Server, e.Rcode, e.Probe)
	}
	return fmt.Sprintf("%s answered NXDOMAIN for %s, which every cluster DNS serves: it is not this cluster's DNS, or the cluster domain is not the one given", e.Server, e.Probe)
}

// DNSWrongServer is reported for a *NotClusterDNSError.
const DNSWrongServer = "DNSWrongServer"

// DNSNotAskedFromOutside is reported when --dns was given outside the
// cluster, where the cluster DNS address does not route.
const DNSNotAskedFromOutside = "DNSNotAskedFromOutside"

// DNSPlan is what the Service's names should resolve to and, with a
// --from pod, how that pod's resolver expands its name: computed once, by
// the command that probes DNS (which asks Expect's Questions and walks
// Search) or else by Build.
type DNSPlan struct {
	Expect *dns.Expectation
	// Search is nil without a --from pod, or when its resolver
	// configuration cannot be worked out.
	Search *dns.SearchPlan
}

// PlanDNS computes the DNS plan of the Service in in.
func PlanDNS(in Input) (*DNSPlan, error) {
	e, err := DNSExpectation(in)
	if err != nil {
		return nil, err
	}
	p := &DNSPlan{Expect: e}
	if in.FromPod != nil || in.DNSClient != nil {
		if rc, query, err := podResolver(in); err == nil {
			plan := dns.PlanSearch(rc, query, e)
			p.Search = &plan
		}
	}
	return p, nil
}

// DNSExpectation is what CoreDNS should answer for the Service in in.
func DNSExpectation(in Input) (*dns.Expectation, error) {
	slices := make([]*discoveryv1.EndpointSlice, len(in.EndpointSlices))
	for i := range in.EndpointSlices {
		slices[i] = &in.EndpointSlices[i]
	}
	pods := make([]*corev1.Pod, len(in.Pods))
	for i := range in.Pods {
		pods[i] = &in.Pods[i]
	}
	return dns.Expect(dns.Input{Service: in.Service, Slices: slices, Pods: pods, ClusterDomain: in.ClusterDomain})
}

// dnsHop is what the Service's names should resolve to and what they did,
// by the plan the DNS check asked by (or, without one, computed here), and
// the results of comparing the two. No plan can be made for a Service
// without a name to resolve: then there is no hop.
func dnsHop(in Input) (*DNSHop, []dns.Result) {
	plan := (*DNSPlan)(nil)
	if in.DNS != nil {
		plan = in.DNS.Plan
	}
	if plan == nil {
		p, err := PlanDNS(in)
		if err != nil {
			return nil, nil
		}
		plan = p
	}
	e := plan.Expect
	hop := &DNSHop{Zone: e.Zone}
	var results []dns.Result
	if in.DNSClient != nil {
		hop.From = in.DNSClient.Where
	}
	if obs := in.DNS; obs != nil {
		hop.Server = obs.Server
		var ue *dns.UnreachableError
		var wrong *NotClusterDNSError
		switch {
		case errors.As(obs.Err, &wrong):
			results = append(results, dns.Result{ID: DNSWrongServer, Severity: dns.SeverityWarning, Subject: obs.Server,
				Message: wrong.Error(), Hint: "point --dns-server at the cluster DNS (kubectl -n kube-system get svc kube-dns) from a node or debug pod, or set --cluster-domain"})
		case errors.As(obs.Err, &ue):
			results = append(results, dns.UnreachableResult(ue))
		case obs.Err != nil:
			results = append(results, dns.Result{ID: dns.DNSServerUnreachable, Severity: dns.SeverityWarning,
				Subject: obs.Server, Message: "DNS check stopped: " + obs.Err.Error(), Hint: "retry with a longer --request-timeout, or check from a debug pod"})
		default:
			results = append(results, dns.Compare(e, obs.Answers)...)
		}
	}
	hop.Checks = dnsChecks(e, in.DNS)
	if plan.Search != nil {
		sp, rs := searchPath(in, plan)
		hop.SearchPath = sp
		if in.DNS != nil && in.DNS.SearchPathWalked {
			// Asked live: a foreign name answering first shows only there.
			rs = in.DNS.SearchPath
		}
		results = append(results, rs...)
	}
	return hop, results
}

// dnsFindings reports the results of the DNS hop.
func dnsFindings(results []dns.Result) []Finding {
	out := make([]Finding, 0, len(results))
	for _, r := range results {
		out = append(out, Finding{ID: string(r.ID), Severity: severityOf(string(r.ID)), Subject: "dns/" + r.Subject, Message: r.Message, Hint: r.Hint})
	}
	return out
}

// dnsChecks pairs each question with the expected and answered values.
// Answers compare as sets: CoreDNS's loadbalance plugin shuffles them. An
// ExternalName's target may resolve to any address, in either family.
func dnsChecks(e *dns.Expectation, obs *DNSObservation) []DNSCheck {
	answered := map[dns.Question]*dns.Answer{}
	if obs != nil && obs.Err == nil {
		for _, a := range obs.Answers {
			answered[a.Question] = a
		}
	}
	targetResolves := false
	for _, t := range []dns.RecordType{dns.TypeA, dns.TypeAAAA} {
		if a := answered[dns.Question{Name: e.ExternalName, Type: t}]; e.ExternalName != "" && a != nil && len(a.OfType(t)) > 0 {
			targetResolves = true
		}
	}
	var out []DNSCheck
	for _, q := range e.Questions() {
		c := DNSCheck{Name: q.Name, Type: string(q.Type), Expected: []string{}}
		target := e.ExternalName != "" && q.Name == e.ExternalName
		if target {
			c.Note = "the ExternalName target: any address will do"
		}
		for _, r := range e.Records {
			if r.Name == q.Name && r.Type == q.Type {
				c.Expected = append(c.Expected, recordValue(r))
			}
		}
		if a, ok := answered[q]; ok {
			c.Queried = true
			c.Answered = []string{}
			for _, r := range a.OfType(q.Type) {
				c.Answered = append(c.Answered, recordValue(r))
			}
			sort.Strings(c.Answered)
			sort.Strings(c.Expected)
			c.OK = slices.Equal(c.Expected, c.Answered)
			if target {
				c.OK = targetResolves
			}
		}
		out = append(out, c)
	}
	return out
}

func recordValue(r dns.Record) string {
	if r.Type == dns.TypeSRV {
		return fmt.Sprintf("%d %d %d %s", r.Priority, r.Weight, r.Port, r.Value)
	}
	return r.Value
}

// podResolver is the --from pod's resolver configuration and the name it
// would ask for the Service.
func podResolver(in Input) (dns.ResolvConf, string, error) {
	if c := in.DNSClient; c != nil {
		// Read where the probe ran: what the resolver really uses.
		return c.ResolvConf, searchQuery(in, c.Namespace), nil
	}
	var clusterDNS []string
	if in.KubeDNS != nil && in.KubeDNS.Spec.ClusterIP != "" && in.KubeDNS.Spec.ClusterIP != corev1.ClusterIPNone {
		clusterDNS = []string{in.KubeDNS.Spec.ClusterIP}
	}
	rc, err := dns.PodResolvConf(dns.PodDNS{Pod: in.FromPod, ClusterDomain: in.ClusterDomain, ClusterDNS: clusterDNS})
	query := in.Name
	if in.FromPod.Namespace != in.Namespace {
		query = in.Name + "." + in.Namespace
	}
	return rc, query, err
}

// searchPath explains how the --from pod's resolver reaches the Service's
// short name (or name.namespace from another namespace).
func searchPath(in Input, p *DNSPlan) (*SearchPath, []dns.Result) {
	e, plan := p.Expect, *p.Search
	rc, query, _ := podResolver(in) // it worked out when the plan was made
	who := ""
	switch {
	case in.DNSClient != nil:
		who = strings.TrimPrefix(in.DNSClient.Where, "pod/")
	case in.FromPod != nil:
		who = in.FromPod.Namespace + "/" + in.FromPod.Name
	}
	sp := &SearchPath{Pod: who, Nameservers: rc.Nameservers,
		Searches: rc.Searches, Ndots: rc.Ndots(), Query: query}
	primary := searchForm(plan)
	sp.Tries, sp.Resolves = primary.Tries, primary.Resolves
	svc := in.Name + "." + in.Namespace
	for _, q := range []string{in.Name, svc, svc + ".svc", svc + ".svc." + e.Zone, svc + ".svc." + e.Zone + "."} {
		sp.Forms = append(sp.Forms, searchForm(dns.PlanSearch(rc, q, e)))
	}
	return sp, plan.Results()
}

func searchForm(plan dns.SearchPlan) SearchForm {
	f := SearchForm{Query: plan.Query, Tries: []string{}}
	for _, s := range plan.Steps {
		f.Tries = append(f.Tries, s.Name)
	}
	if plan.Match >= 0 {
		f.Resolves = plan.Steps[plan.Match].Name
	}
	return f
}
