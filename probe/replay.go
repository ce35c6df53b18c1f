package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dns"
)

// Replay answers from a report what the probe asked inside the cluster, so
// the client checks the answers with the same code as a live resolver's.
type Replay struct {
	server  string
	answers map[dns.Question]Answer
}

var _ dns.Resolver = (*Replay)(nil)

// NewReplay serves r's answers.
func NewReplay(r *Report) *Replay {
	rp := &Replay{server: r.Server, answers: map[dns.Question]Answer{}}
	for _, a := range r.Answers {
		q := a.Question
		q.Name = strings.ToLower(q.Name)
		rp.answers[q] = a
	}
	return rp
}

// ErrNotAsked means the probe did not ask the question: the plan and the
// checks disagree, which is a bug, not a DNS failure.
var ErrNotAsked = errors.New("the probe did not ask this question")

// Query returns the recorded answer; an exchange that got no reply is a
// *dns.UnreachableError as it was inside the cluster.
func (r *Replay) Query(_ context.Context, name string, t dns.RecordType) (*dns.Answer, error) {
	q := dns.Question{Name: strings.ToLower(name), Type: t}
	if !strings.HasSuffix(q.Name, ".") {
		q.Name += "."
	}
	a, ok := r.answers[q]
	switch {
	case !ok:
		return nil, fmt.Errorf("query %s: %w", q, ErrNotAsked)
	case a.Unreachable:
		return nil, &dns.UnreachableError{Server: r.server, Question: q, Err: errors.New(a.Err)}
	case a.Err != "" || a.Answer == nil:
		return nil, fmt.Errorf("query %s at %s: %s", q, r.server, a.Err)
	}
	return a.Answer, nil
}
