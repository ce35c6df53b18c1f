package dns

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Questions lists what Verify asks, sorted: every name and type with expected
// records; the names where not-ready addresses would appear if published;
// and A and AAAA of an ExternalName target.
func (e *Expectation) Questions() []Question {
	seen := map[Question]bool{}
	var qs []Question
	add := func(q Question) {
		if !seen[q] {
			seen[q] = true
			qs = append(qs, q)
		}
	}
	for _, r := range e.Records {
		add(Question{Name: r.Name, Type: r.Type})
	}
	for _, nr := range e.NotReady {
		if r, ok := addrRecord(nr.Name, nr.IP); ok {
			add(Question{Name: nr.Name, Type: r.Type})
			if e.Headless {
				add(Question{Name: e.FQDN, Type: r.Type})
			}
		}
	}
	if e.ExternalName != "" {
		add(Question{Name: e.ExternalName, Type: TypeA})
		add(Question{Name: e.ExternalName, Type: TypeAAAA})
	}
	slices.SortFunc(qs, func(a, b Question) int {
		return cmpKeys(a.Name, b.Name, string(a.Type), string(b.Type), "", "", 0, 0)
	})
	return qs
}

// Ask queries r for each question in order. It stops at the first error,
// returning the answers so far; an *UnreachableError is returned as is.
func Ask(ctx context.Context, r Resolver, qs []Question) ([]*Answer, error) {
	var out []*Answer
	for _, q := range qs {
		a, err := r.Query(ctx, q.Name, q.Type)
		if err != nil {
			return out, err
		}
		out = append(out, a)
	}
	return out, nil
}

// UnreachableResult is the DNSServerUnreachable result for a server that
// sent no reply: what failed, and how to ask from inside the cluster.
func UnreachableResult(ue *UnreachableError) Result {
	return Result{
		ID: DNSServerUnreachable, Severity: SeverityWarning, Subject: ue.Server,
		Message: ue.Error(),
		Hint: "cluster IPs are usually only reachable inside the cluster; ask from a debug pod: " +
			debugPodCommand(ue.Server, ue.Question.Name),
	}
}

// Compare checks answers against e. Questions without an answer are
// skipped, so a partial run reports only what it saw. It does no I/O.
func Compare(e *Expectation, answers []*Answer) []Result {
	got := map[Question]*Answer{}
	for _, a := range answers {
		if a != nil {
			got[Question{Name: fqdn(a.Question.Name), Type: a.Question.Type}] = a
		}
	}
	var out []Result
	for _, q := range e.Questions() {
		if e.ExternalName != "" && q.Name == e.ExternalName && q.Type != TypeCNAME {
			continue // the target's addresses are unknown; judged below
		}
		if a := got[q]; a != nil {
			out = append(out, e.compareOne(q, a)...)
		}
	}
	if r, ok := e.checkExternalTarget(got); ok {
		out = append(out, r)
	}
	return out
}

// compareOne judges one answer: nothing where records are due is
// DNSNameNotFound; published not-ready addresses are reported on their own,
// and any other difference is DNSAnswerMismatch.
func (e *Expectation) compareOne(q Question, a *Answer) []Result {
	var want []Record
	for _, r := range e.Records {
		if r.Name == q.Name && r.Type == q.Type {
			want = append(want, r)
		}
	}
	have := a.OfType(q.Type)
	if len(want) > 0 && len(have) == 0 {
		return []Result{e.notFound(q, a, want)}
	}
	missing, extra := diffRecords(want, have)
	var out []Result
	if published := e.notReadyIn(extra); len(published) > 0 {
		out = append(out, e.notReadyPublished(q, published))
		extra = slices.DeleteFunc(extra, func(r Record) bool { return slices.Contains(published, r.Value) })
	}
	if len(missing) > 0 || len(extra) > 0 {
		out = append(out, e.mismatch(q, want, have, a))
	}
	return out
}

// diffRecords compares by the fields a resolver acts on: value, and port,
// priority and weight for SRV. TTLs are ignored since caches count them down.
func diffRecords(want, have []Record) (missing, extra []Record) {
	key := func(r Record) string { return fmt.Sprintf("%s|%d|%d|%d", r.Value, r.Port, r.Priority, r.Weight) }
	w, h := map[string]bool{}, map[string]bool{}
	for _, r := range want {
		w[key(r)] = true
	}
	for _, r := range have {
		h[key(r)] = true
		if !w[key(r)] {
			extra = append(extra, r)
		}
	}
	for _, r := range want {
		if !h[key(r)] {
			missing = append(missing, r)
		}
	}
	return missing, extra
}

// notReadyIn returns addresses in extra that belong to not-ready endpoints,
// when the Service does not ask for them to be published.
func (e *Expectation) notReadyIn(extra []Record) []string {
	if e.PublishNotReady {
		return nil
	}
	var out []string
	for _, r := range extra {
		for _, nr := range e.NotReady {
			if want, ok := addrRecord(r.Name, nr.IP); ok && want.Value == r.Value && !slices.Contains(out, r.Value) {
				out = append(out, r.Value)
			}
		}
	}
	return out
}

func (e *Expectation) checkExternalTarget(got map[Question]*Answer) (Result, bool) {
	if e.ExternalName == "" {
		return Result{}, false
	}
	answered := false
	var rcodes []string
	for _, t := range []RecordType{TypeA, TypeAAAA} {
		a := got[Question{Name: e.ExternalName, Type: t}]
		if a == nil {
			continue
		}
		answered = true
		if len(a.OfType(TypeA))+len(a.OfType(TypeAAAA)) > 0 {
			return Result{}, false
		}
		rcodes = append(rcodes, string(t)+" "+a.Rcode)
	}
	if !answered {
		return Result{}, false
	}
	return Result{
		ID: ExternalNameUnresolvable, Severity: SeverityError, Subject: e.FQDN + " CNAME " + e.ExternalName,
		Message: fmt.Sprintf("ExternalName service %s points at %s, which has no address (%s); clients get the CNAME and then nothing",
			e.Service, e.ExternalName, strings.Join(rcodes, ", ")),
		Hint: fmt.Sprintf("check spec.externalName for typos (kubectl get svc %s -n %s -o jsonpath='{.spec.externalName}') and whether CoreDNS's upstream can resolve it: %s",
			e.name(), e.namespace(), debugPodCommand("", e.ExternalName)),
	}, true
}
