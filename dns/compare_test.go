package dns

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func mustExpect(t *testing.T, in Input) *Expectation {
	t.Helper()
	e, err := Expect(in)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func answer(name string, qt RecordType, rcode string, rs ...Record) *Answer {
	return &Answer{Question: Question{Name: name, Type: qt}, Rcode: rcode, Records: rs}
}

// answersFor serves e's own records, then applies overrides by question.
func answersFor(e *Expectation, overrides ...*Answer) []*Answer {
	f := NewFake(e.Records...)
	var out []*Answer
	for _, q := range e.Questions() {
		a, _ := f.Query(context.Background(), q.Name, q.Type)
		for _, o := range overrides {
			if o.Question == q {
				a = o
			}
		}
		out = append(out, a)
	}
	return out
}

func TestCompare(t *testing.T) {
	clusterIP := func() *Expectation {
		return mustExpect(t, Input{Service: service("web", "default", []string{"10.96.0.20"}, svcPort("http", tcp, 80))})
	}
	headlessWithNotReady := func(publish bool) *Expectation {
		s := headless("web", "default")
		s.Spec.PublishNotReadyAddresses = publish
		return mustExpect(t, Input{Service: s, Slices: []*discoveryv1.EndpointSlice{epSlice("web", "default", "s", v4, httpPort,
			endpoint("10.244.1.5", yes, "web-0", "web-0"), endpoint("10.244.1.6", no, "web-1", "web-1"))}})
	}
	onlyNotReady := func() *Expectation {
		return mustExpect(t, Input{Service: headless("web", "default"), Slices: []*discoveryv1.EndpointSlice{
			epSlice("web", "default", "s", v4, nil, endpoint("10.244.1.6", no, "", ""))}})
	}
	ext := func() *Expectation {
		return mustExpect(t, Input{Service: externalName("db", "default", "db.example.com")})
	}
	const db = "db.default.svc.cluster.local."
	tests := []struct {
		name    string
		e       *Expectation
		answers func(*Expectation) []*Answer
		want    []ID
	}{
		{"all as expected", clusterIP(), func(e *Expectation) []*Answer { return answersFor(e) }, nil},
		{"no answers, no results", clusterIP(), func(*Expectation) []*Answer { return nil }, nil},
		{"NXDOMAIN for the service", clusterIP(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeNXDomain))
		}, []ID{DNSNameNotFound}},
		{"NODATA for the service", clusterIP(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeSuccess))
		}, []ID{DNSNameNotFound}},
		{"SERVFAIL for the service", clusterIP(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, "SERVFAIL"))
		}, []ID{DNSNameNotFound}},
		{"another IP", clusterIP(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeSuccess, rec(web, TypeA, "10.96.0.99")))
		}, []ID{DNSAnswerMismatch}},
		{"an extra IP", clusterIP(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeSuccess, rec(web, TypeA, "10.96.0.20"), rec(web, TypeA, "10.96.0.21")))
		}, []ID{DNSAnswerMismatch}},
		{"TTL differences are ignored", clusterIP(), func(e *Expectation) []*Answer {
			r := rec(web, TypeA, "10.96.0.20")
			r.TTL = 30
			return answersFor(e, answer(web, TypeA, RcodeSuccess, r))
		}, nil},
		{"SRV weight differs", clusterIP(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(webTCP, TypeSRV, RcodeSuccess, srvRec(webTCP, web, 80, 50)))
		}, []ID{DNSAnswerMismatch}},
		{"not-ready address published", headlessWithNotReady(false), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeSuccess, rec(web, TypeA, "10.244.1.5"), rec(web, TypeA, "10.244.1.6")))
		}, []ID{DNSNotReadyEndpointPublished}},
		{"not-ready per-endpoint name published", headlessWithNotReady(false), func(e *Expectation) []*Answer {
			n := "web-1." + web
			return answersFor(e, answer(n, TypeA, RcodeSuccess, rec(n, TypeA, "10.244.1.6")))
		}, []ID{DNSNotReadyEndpointPublished}},
		{"not-ready published plus a foreign IP", headlessWithNotReady(false), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeSuccess, rec(web, TypeA, "10.244.1.5"), rec(web, TypeA, "10.244.1.6"), rec(web, TypeA, "10.9.9.9")))
		}, []ID{DNSNotReadyEndpointPublished, DNSAnswerMismatch}},
		{"stale ready=false with publishNotReadyAddresses is a plain mismatch", headlessWithNotReady(true), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeSuccess, rec(web, TypeA, "10.244.1.5"), rec(web, TypeA, "10.244.1.6")))
		}, []ID{DNSAnswerMismatch}},
		{"headless whose only endpoint is not ready is NXDOMAIN", onlyNotReady(), func(e *Expectation) []*Answer {
			return answersFor(e)
		}, nil},
		{"headless whose only endpoint is not ready, yet answered", onlyNotReady(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(web, TypeA, RcodeSuccess, rec(web, TypeA, "10.244.1.6")))
		}, []ID{DNSNotReadyEndpointPublished}},
		{"ExternalName resolves", ext(), func(e *Expectation) []*Answer {
			return answersFor(e, answer("db.example.com.", TypeA, RcodeSuccess, rec("db.example.com.", TypeA, "192.0.2.10")),
				answer("db.example.com.", TypeAAAA, RcodeSuccess))
		}, nil},
		{"ExternalName target NXDOMAIN", ext(), func(e *Expectation) []*Answer {
			return answersFor(e)
		}, []ID{ExternalNameUnresolvable}},
		{"ExternalName CNAME points elsewhere", ext(), func(e *Expectation) []*Answer {
			return answersFor(e, answer(db, TypeCNAME, RcodeSuccess, rec(db, TypeCNAME, "old.example.com.")),
				answer("db.example.com.", TypeA, RcodeSuccess, rec("db.example.com.", TypeA, "192.0.2.10")))
		}, []ID{DNSAnswerMismatch}},
	}
	var all strings.Builder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.e, tt.answers(tt.e))
			if diff := cmp.Diff(tt.want, ids(got), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ids (-want +got):\n%s\n%v", diff, got)
			}
			for _, r := range got {
				fmt.Fprintf(&all, "### %s\n%s %s %s\n  %s\n  hint: %s\n", tt.name, r.Severity, r.ID, r.Subject, r.Message, r.Hint)
			}
		})
	}
	// The wording is for people at 3 a.m.: review it in the golden file.
	checkGolden(t, "compare_results", all.String())
}

func TestQuestions(t *testing.T) {
	e := mustExpect(t, Input{Service: headless("web", "default"), Slices: []*discoveryv1.EndpointSlice{
		epSlice("web", "default", "s4", v4, httpPort, endpoint("10.244.1.5", yes, "web-0", ""), endpoint("10.244.1.6", no, "web-1", "")),
		epSlice("web", "default", "s6", v6, nil, endpoint("fd00::6", no, "", "")),
	}})
	want := []Question{
		{"_http._tcp." + web, TypeSRV},
		{"fd00--6." + web, TypeAAAA},
		{"web-0." + web, TypeA},
		{"web-1." + web, TypeA},
		{web, TypeA},
		{web, TypeAAAA},
	}
	if diff := cmp.Diff(want, e.Questions()); diff != "" {
		t.Errorf("questions (-want +got):\n%s", diff)
	}
	x := mustExpect(t, Input{Service: externalName("db", "default", "db.example.com")})
	want = []Question{{"db.default.svc.cluster.local.", TypeCNAME}, {"db.example.com.", TypeA}, {"db.example.com.", TypeAAAA}}
	if diff := cmp.Diff(want, x.Questions()); diff != "" {
		t.Errorf("ExternalName questions (-want +got):\n%s", diff)
	}
}

// verify is what the trace does with a server: ask every question, then
// compare; an unreachable server is one result.
func verify(ctx context.Context, r Resolver, e *Expectation) ([]Result, error) {
	answers, err := Ask(ctx, r, e.Questions())
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return []Result{UnreachableResult(ue)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("check DNS for service %s: %w", e.Service, err)
	}
	return Compare(e, answers), nil
}

func TestVerify(t *testing.T) {
	e := mustExpect(t, Input{Service: service("web", "default", []string{"10.96.0.20", "fd00::20"}, svcPort("http", tcp, 80))})
	t.Run("healthy", func(t *testing.T) {
		f := NewFake(e.Records...)
		got, err := verify(context.Background(), f, e)
		if err != nil || len(got) != 0 {
			t.Fatalf("Verify = %v, %v; want no results", got, err)
		}
		if diff := cmp.Diff(e.Questions(), f.Asked()); diff != "" {
			t.Errorf("asked (-want +got):\n%s", diff)
		}
	})
	t.Run("AAAA missing", func(t *testing.T) {
		f := NewFake(e.Records[0], e.Records[1])
		got, err := verify(context.Background(), f, e)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]ID{DNSNameNotFound}, ids(got)); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
	})
	t.Run("unreachable is one result and stops", func(t *testing.T) {
		f := unreachableFake()
		got, err := verify(context.Background(), f, e)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]ID{DNSServerUnreachable}, ids(got)); diff != "" {
			t.Errorf("ids (-want +got):\n%s", diff)
		}
		if !strings.Contains(got[0].Message, "DNS server 10.96.0.10:53 unreachable from here") || !strings.Contains(got[0].Hint, "debug pod") {
			t.Errorf("result does not say where to run from: %+v", got[0])
		}
		if n := len(f.Asked()); n != 1 {
			t.Errorf("asked %d questions after the server was unreachable, want 1", n)
		}
	})
	t.Run("cancelled context is an error", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := verify(ctx, NewFake(e.Records...), e); err == nil || !strings.Contains(err.Error(), "service default/web") {
			t.Errorf("error %v, want one naming the service", err)
		}
	})
}
