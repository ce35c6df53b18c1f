package trace_test

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dns"
	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/probe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

var podSite = trace.ProbeSite{Where: "pod/default/client", Namespace: "default", Entry: dataplane.EntryPod, Node: "node-1"}

func TestProbePlanFollowsTheService(t *testing.T) {
	in := scenario.Input(t, "healthy.yaml", "default", "web")
	p := trace.ProbePlan(in, podSite, "")
	if p.Questions[0] != (dns.Question{Name: "kubernetes.default.svc.cluster.local.", Type: dns.TypeA}) {
		t.Errorf("first question %v: want the cluster DNS check kubernetes.default", p.Questions[0])
	}
	if !containsQuestion(p.Questions, "web.default.svc.cluster.local.", dns.TypeA) {
		t.Errorf("questions %v lack the Service's A record", p.Questions)
	}
	if len(p.Search) != 1 || p.Search[0] != "web" || p.SearchType != dns.TypeA {
		t.Errorf("search %v %s: want the short name web, type A, from the Service's namespace", p.Search, p.SearchType)
	}
	var got []string
	for _, tg := range p.Targets {
		got = append(got, string(tg.Kind)+" "+tg.Addr.String()+" "+tg.Pod)
	}
	want := []string{"clusterIP 10.96.0.20:80 ", "endpoint 10.244.1.10:8080 web-0", "endpoint 10.244.1.11:8080 web-1", "endpoint 10.244.1.12:8080 web-2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("targets\n got %q\nwant %q", got, want)
	}
	other := trace.ProbePlan(in, trace.ProbeSite{Where: "pod/shop/c", Namespace: "shop"}, "")
	if other.Search[0] != "web.default" {
		t.Errorf("from another namespace the search name is %q, want web.default", other.Search[0])
	}
}

func TestProbePlanTriesTheNodePortAndOnlyTheAskedPort(t *testing.T) {
	in := scenario.Input(t, "kinds.yaml", "default", "sticky")
	site := trace.ProbeSite{Where: "node/node-1", NodeAddr: netip.MustParseAddr("192.168.1.10"), Entry: dataplane.EntryNode, Node: "node-1"}
	p := trace.ProbePlan(in, site, "https")
	var nodePorts int
	for _, tg := range p.Targets {
		if tg.Port != "https" {
			t.Errorf("target %+v is not of the asked port https", tg)
		}
		if tg.Kind == probe.KindNodePort {
			nodePorts++
			if tg.Addr != netip.MustParseAddrPort("192.168.1.10:30443") {
				t.Errorf("node port target %s, want 192.168.1.10:30443", tg.Addr)
			}
		}
		if tg.HTTP {
			t.Errorf("target %+v of port https is asked for HTTP: TLS does not answer a plain GET", tg)
		}
	}
	if nodePorts != 1 {
		t.Errorf("%d node port targets, want 1: %+v", nodePorts, p.Targets)
	}
	for _, tg := range trace.ProbePlan(in, site, "http").Targets {
		if !tg.HTTP {
			t.Errorf("target %+v of port http is not asked for HTTP", tg)
		}
	}
}

func containsQuestion(qs []dns.Question, name string, typ dns.RecordType) bool {
	for _, q := range qs {
		if q.Name == name && q.Type == typ {
			return true
		}
	}
	return false
}

// probed traces healthy web with a probe report in which each address got
// the outcome outcomes gives it (OK when not listed).
func probed(t *testing.T, outcomes map[string]probe.Outcome) *trace.Trace {
	t.Helper()
	in := scenario.Input(t, "healthy.yaml", "default", "web")
	plan := trace.ProbePlan(in, podSite, "")
	rep := &probe.Report{Host: "client"}
	for _, tg := range plan.Targets {
		o, ok := outcomes[tg.Addr.String()]
		if !ok {
			o = probe.OK
		}
		rep.Results = append(rep.Results, probe.Result{Target: tg, Outcome: o})
	}
	in.Probe = &trace.ProbeObservation{Site: podSite, Report: rep}
	return trace.Build(in)
}

func probeIDs(tr *trace.Trace, prefix string) []string {
	var out []string
	for _, f := range tr.Findings {
		if strings.HasPrefix(f.ID, prefix) {
			out = append(out, f.ID+"/"+string(f.Severity))
		}
	}
	return out
}

func TestProbeFindings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		outcomes map[string]probe.Outcome
		want     []string
		says     string
	}{
		{"all answer", nil, nil, ""},
		{"service refused, endpoints answer", map[string]probe.Outcome{"10.96.0.20:80": probe.Refused},
			[]string{"ProbeServiceUnreachable/error", "ProbeContradictsRules/warning"}, "while all 3 endpoints tried accepted connections directly"},
		{"endpoints refuse: the targetPort", map[string]probe.Outcome{"10.96.0.20:80": probe.Refused, "10.244.1.10:8080": probe.Refused, "10.244.1.11:8080": probe.Refused, "10.244.1.12:8080": probe.Refused},
			[]string{"ProbeServiceUnreachable/error", "ProbeEndpointFailed/error", "ProbeEndpointFailed/error", "ProbeEndpointFailed/error"}, "nothing listens on port 8080"},
		{"one endpoint times out", map[string]probe.Outcome{"10.244.1.11:8080": probe.TimedOut},
			[]string{"ProbeEndpointFailed/error"}, "NetworkPolicy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := probed(t, tc.outcomes)
			got := probeIDs(tr, "Probe")
			if !slices.Equal(sorted(got), sorted(tc.want)) {
				t.Fatalf("probe findings %v, want %v", got, tc.want)
			}
			if tc.says != "" && !anyFindingSays(tr, tc.says) {
				t.Errorf("no finding says %q: %+v", tc.says, tr.Findings)
			}
			if tr.Probe == nil || tr.Probe.From != "pod/default/client" || len(tr.Probe.Results) != 4 {
				t.Errorf("probe hop %+v: want 4 results from pod/default/client", tr.Probe)
			}
		})
	}
}

func TestProbeThatDidNotRunIsOneWarning(t *testing.T) {
	in := scenario.Input(t, "healthy.yaml", "default", "web")
	in.Probe = &trace.ProbeObservation{Site: podSite, Err: errors.New("not allowed to add an ephemeral container")}
	tr := trace.Build(in)
	if got := probeIDs(tr, "Probe"); len(got) != 1 || got[0] != "ProbeNotRun/warning" {
		t.Fatalf("findings %v, want one ProbeNotRun warning", got)
	}
	if tr.Probe.Error == "" {
		t.Error("the probe hop does not carry the error")
	}
}

func TestProbeNoUDPReplyIsInfoOnly(t *testing.T) {
	in := scenario.Input(t, "healthy.yaml", "default", "web")
	rep := &probe.Report{Results: []probe.Result{{Target: probe.Target{Kind: probe.KindClusterIP, Port: "dns", Addr: netip.MustParseAddrPort("10.96.0.20:53"), Protocol: "UDP"}, Outcome: probe.NoReply}}}
	in.Probe = &trace.ProbeObservation{Site: trace.ProbeSite{Where: "pod/default/x"}, Report: rep}
	if got := probeIDs(trace.Build(in), "Probe"); len(got) != 1 || got[0] != "ProbeNoUDPReply/info" {
		t.Fatalf("findings %v, want one ProbeNoUDPReply info", got)
	}
}

func TestProbeDNSUsesTheResolverItRead(t *testing.T) {
	in := scenario.Input(t, "healthy.yaml", "default", "web")
	in.DNSClient = &trace.DNSClient{Where: "pod/default/client", Namespace: "default",
		ResolvConf: dns.ResolvConf{Nameservers: []string{"10.96.0.10"}, Searches: []string{"corp.example"}, Options: []string{"ndots:1"}}}
	tr := trace.Build(in)
	sp := tr.DNS.SearchPath
	if sp == nil || sp.Pod != "default/client" || tr.DNS.From != "pod/default/client" || len(sp.Searches) != 1 || sp.Searches[0] != "corp.example" {
		t.Fatalf("search path %+v: want the probe's resolver configuration", sp)
	}
	if len(probeIDs(tr, "DNSSearchPathMiss")) != 1 {
		t.Errorf("a search list without svc.cluster.local cannot reach web: want DNSSearchPathMiss, got %v", probeIDs(tr, ""))
	}
}

func anyFindingSays(tr *trace.Trace, text string) bool {
	for _, f := range tr.Findings {
		if strings.Contains(f.Message+"; "+f.Hint, text) {
			return true
		}
	}
	return false
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func TestProbeAnsweringSettlesAnUndeclaredTargetPort(t *testing.T) {
	in := scenario.Input(t, "ports.yaml", "default", "numeric")
	before := probeIDs(trace.Build(in), "TargetPortNotExposed")
	if len(before) != 1 || before[0] != "TargetPortNotExposed/error" {
		t.Fatalf("without a probe: %v, want the error", before)
	}
	site := trace.ProbeSite{Where: "pod/default/client"}
	rep := &probe.Report{}
	for _, tg := range trace.ProbePlan(in, site, "").Targets {
		rep.Results = append(rep.Results, probe.Result{Target: tg, Outcome: probe.OK})
	}
	in.Probe = &trace.ProbeObservation{Site: site, Report: rep}
	tr := trace.Build(in)
	if got := probeIDs(tr, "TargetPortNotExposed"); len(got) != 1 || got[0] != "TargetPortNotExposed/warning" {
		t.Fatalf("with every endpoint answering: %v, want a warning", got)
	}
	if !anyFindingSays(tr, "the probe's connection to pod") {
		t.Error("the warning does not say the probe saw the port answer")
	}
}
