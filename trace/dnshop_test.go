package trace_test

import (
	"context"
	"slices"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dns"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// observe answers every question of the Service's expectation from a fake
// server holding records, as a live check would.
func observe(t *testing.T, in trace.Input, records ...dns.Record) *trace.DNSObservation {
	t.Helper()
	e, err := trace.DNSExpectation(in)
	if err != nil {
		t.Fatal(err)
	}
	answers, err := dns.Ask(context.Background(), dns.NewFake(records...), e.Questions())
	return &trace.DNSObservation{Server: "127.0.0.1:53", Answers: answers, Err: err}
}

func check(t *testing.T, tr *trace.Trace, name, typ string) trace.DNSCheck {
	t.Helper()
	for _, c := range tr.DNS.Checks {
		if c.Name == name && c.Type == typ {
			return c
		}
	}
	t.Fatalf("no %s %s check in %+v", typ, name, tr.DNS.Checks)
	return trace.DNSCheck{}
}

func TestHeadlessAnswersCompareAsSets(t *testing.T) {
	in := input(t, "kinds.yaml", "db", nil)
	const name = "db.default.svc.cluster.local."
	// The loadbalance plugin shuffles A records: answer in reverse order.
	in.DNS = observe(t, in,
		dns.Record{Name: name, Type: dns.TypeA, Value: "10.244.1.41", TTL: 5},
		dns.Record{Name: name, Type: dns.TypeA, Value: "10.244.1.40", TTL: 5})
	tr := trace.Build(in)
	if c := check(t, tr, name, "A"); !c.OK || !c.Queried {
		t.Errorf("check %+v, want ok", c)
	}
}

func TestExternalNameTargetResolves(t *testing.T) {
	const target = "search.example.com."
	cases := []struct {
		name    string
		records []dns.Record
		ok      bool
		finding bool
	}{
		{"target has an address", []dns.Record{
			{Name: "search.default.svc.cluster.local.", Type: dns.TypeCNAME, Value: target, TTL: 5},
			{Name: target, Type: dns.TypeA, Value: "192.0.2.7", TTL: 30}}, true, false},
		{"target does not resolve", []dns.Record{
			{Name: "search.default.svc.cluster.local.", Type: dns.TypeCNAME, Value: target, TTL: 5}}, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, "kinds.yaml", "search", nil)
			in.DNS = observe(t, in, tc.records...)
			tr := trace.Build(in)
			if c := check(t, tr, target, "A"); c.OK != tc.ok {
				t.Errorf("A check %+v, want ok=%v", c, tc.ok)
			}
			got := slices.ContainsFunc(tr.Findings, func(f trace.Finding) bool { return f.ID == "ExternalNameUnresolvable" })
			if got != tc.finding {
				t.Errorf("ExternalNameUnresolvable reported %v, want %v: %+v", got, tc.finding, tr.Findings)
			}
		})
	}
}
