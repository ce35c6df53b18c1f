package tui

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/demo"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// demoTrace is the trace of the embedded demo cluster.
func demoTrace(tb testing.TB) *trace.Trace {
	tb.Helper()
	return demoService(tb, demo.Service)
}

// notFoundTrace traces a Service the demo cluster does not have.
func notFoundTrace(tb testing.TB) *trace.Trace {
	tb.Helper()
	return demoService(tb, "hostname")
}

// withoutDataplane is the demo trace as it is before any rules are read.
func withoutDataplane(tb testing.TB) *trace.Trace {
	t := demoTrace(tb)
	t.Dataplane = nil
	return t
}

func demoService(tb testing.TB, name string) *trace.Trace {
	tb.Helper()
	objs, err := demo.Objects()
	if err != nil {
		tb.Fatalf("load demo: %v", err)
	}
	in, err := source.Fetcher{Client: source.Offline(objs)}.Fetch(context.Background(), demo.Namespace, name)
	if err != nil {
		tb.Fatalf("fetch demo: %v", err)
	}
	return trace.Build(*in)
}

// fullTrace is the demo trace with hand-built DNS and dataplane hops,
// standing in for what the command fills from the cluster and dumps.
func fullTrace(tb testing.TB) *trace.Trace {
	t := demoTrace(tb)
	t.DNS, t.Dataplane = demoDNS(), demoDataplane()
	return t
}

// Chain names as kube-proxy derives them for default/hostnames:default tcp.
const (
	svcChain = "KUBE-SVC-ODX2UBAZM7RQWOIU"
	sep1     = "KUBE-SEP-7MW3KEEC4RCNSIJ2" // 10.244.1.7:9376
	sep2     = "KUBE-SEP-3C5XT2CPGWXUSCZF" // 10.244.2.5:9376
	sep3     = "KUBE-SEP-7Y5M6KCUSGT5SOWG" // 10.244.2.6:9376, not ready
)

func demoDNS() *trace.DNSHop {
	name := "hostnames.default.svc.cluster.local"
	return &trace.DNSHop{
		Server: "10.96.0.10:53", Zone: "cluster.local",
		Checks: []trace.DNSCheck{
			{Name: name, Type: "A", Expected: []string{"10.96.0.150"}, Answered: []string{"10.96.0.150"}, Queried: true, OK: true},
			{Name: "_default._tcp." + name, Type: "SRV", Expected: []string{"0 100 80 " + name + "."},
				Answered: []string{"0 100 80 " + name + "."}, Queried: true, OK: true},
		},
		SearchPath: &trace.SearchPath{Pod: "client", Nameservers: []string{"10.96.0.10"},
			Searches: []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}, Ndots: 5,
			Query: "hostnames", Tries: []string{name + "."}, Resolves: "10.96.0.150"},
	}
}

// demoDataplane is node-1's iptables-save as kube-proxy left it before
// noticing that tv2rp stopped being ready: three endpoint chains, the
// third stale.
func demoDataplane() []trace.DataplaneHop {
	chains := demoChains()
	return []trace.DataplaneHop{{Node: "node-1", Mode: "iptables", Source: "node-1.iptables-save", Chains: chains,
		Walks: []dataplane.Walk{
			walkFrom(chains, "pod", "10.244.1.9", "PREROUTING", 8, false),
			walkFrom(chains, "node", "192.168.49.2", "OUTPUT", 12, true),
		}},
		// node-1's IPv6 rules have nothing to walk for an IPv4-only Service.
		{Node: "node-1", Mode: "iptables", Family: "IPv6", Source: "node-1.ip6tables-save",
			Note: "no packet to walk: the Service has no cluster IP of this family"},
	}
}

func demoChains() []dataplane.Listing {
	comment := `-m comment --comment "default/hostnames:default`
	sep := func(name, ip string, line int, drift dataplane.DiffKind) dataplane.Listing {
		return dataplane.Listing{Table: "nat", Name: name, Drift: drift, Rules: []dataplane.RuleLine{
			{Line: line, Text: fmt.Sprintf(`-A %s -s %s/32 %s" -j KUBE-MARK-MASQ`, name, ip, comment)},
			{Line: line + 1, Text: fmt.Sprintf(`-A %s -p tcp %s" -m tcp -j DNAT --to-destination %s:9376`, name, comment, ip)},
		}}
	}
	return []dataplane.Listing{
		{Table: "nat", Name: "PREROUTING", Rules: []dataplane.RuleLine{
			{Line: 8, Text: `-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`}}},
		{Table: "nat", Name: "OUTPUT", Rules: []dataplane.RuleLine{
			{Line: 12, Text: `-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES`}}},
		{Table: "nat", Name: "KUBE-SERVICES", Rules: []dataplane.RuleLine{
			{Line: 41, Text: `-A KUBE-SERVICES -d 10.96.0.150/32 -p tcp ` + comment + ` cluster IP" -m tcp --dport 80 -j ` + svcChain}}},
		{Table: "nat", Name: svcChain, Rules: []dataplane.RuleLine{
			{Line: 60, Text: `-A ` + svcChain + ` ! -s 10.244.0.0/16 -d 10.96.0.150/32 -p tcp ` + comment + ` cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ`},
			{Line: 61, Text: `-A ` + svcChain + ` ` + comment + ` -> 10.244.1.7:9376" -m statistic --mode random --probability 0.33333333349 -j ` + sep1},
			{Line: 62, Text: `-A ` + svcChain + ` ` + comment + ` -> 10.244.2.5:9376" -m statistic --mode random --probability 0.50000000000 -j ` + sep2},
			{Line: 63, Text: `-A ` + svcChain + ` ` + comment + ` -> 10.244.2.6:9376" -j ` + sep3, Drift: "StaleEndpointChain"},
		}},
		sep(sep1, "10.244.1.7", 70, ""),
		sep(sep2, "10.244.2.5", 72, ""),
		sep(sep3, "10.244.2.6", 74, "StaleEndpointChain"),
	}
}

func mustEntry(from string) dataplane.Entry {
	e, err := dataplane.ParseEntry(from)
	if err != nil {
		panic(err)
	}
	return e
}

// walkFrom walks a packet as trace does: the steps all outcomes share
// (Branch 0), then each outcome's own remainder (Branch i+1). The random
// rules fork the walk, so 61 is matched on branch 1 and not on branch 2.
func walkFrom(chains []dataplane.Listing, from, src, entry string, entryLine int, masq bool) dataplane.Walk {
	third := 1.0 / 3
	steps := []dataplane.Step{
		{Table: "nat", Chain: entry, Line: entryLine, Matched: true, Probability: 1},
		{Table: "nat", Chain: "KUBE-SERVICES", Line: 41, Matched: true, Probability: 1},
		{Table: "nat", Chain: svcChain, Line: 60, Matched: masq, Probability: 1},
		{Table: "nat", Chain: svcChain, Line: 61, Matched: true, Probability: third, Note: "random 33.3%", Branch: 1},
		{Table: "nat", Chain: sep1, Line: 70, Probability: third, Branch: 1},
		{Table: "nat", Chain: sep1, Line: 71, Matched: true, Probability: third, Branch: 1},
		{Table: "nat", Chain: svcChain, Line: 61, Probability: 2 * third, Note: "random 33.3%", Branch: 2},
		{Table: "nat", Chain: svcChain, Line: 62, Matched: true, Probability: third, Note: "random 50.0%", Branch: 2},
		{Table: "nat", Chain: sep2, Line: 72, Probability: third, Branch: 2},
		{Table: "nat", Chain: sep2, Line: 73, Matched: true, Probability: third, Branch: 2},
		{Table: "nat", Chain: svcChain, Line: 62, Probability: third, Note: "random 50.0%", Branch: 3},
		{Table: "nat", Chain: svcChain, Line: 63, Matched: true, Probability: third, Branch: 3},
		{Table: "nat", Chain: sep3, Line: 74, Probability: third, Branch: 3},
		{Table: "nat", Chain: sep3, Line: 75, Matched: true, Probability: third, Branch: 3},
	}
	for i := range steps {
		steps[i].Rule = ruleText(chains, steps[i].Chain, steps[i].Line)
	}
	out := func(target, sep, share string) dataplane.Outcome {
		return dataplane.Outcome{Verdict: "DNAT", Target: target, Probability: third, Masquerade: masq,
			Path:   "KUBE-SERVICES → " + svcChain + " → " + sep + " (" + share + ") → DNAT " + target,
			Chains: []string{"KUBE-SERVICES", svcChain, sep}}
	}
	// tv2rp is not ready: its stale chain sends traffic to a pod that is
	// not an endpoint of the Service.
	stale := out("10.244.2.6:9376", sep3, "33.3%")
	stale.NotEndpoint = true
	return dataplane.Walk{
		Packet: dataplane.Packet{Protocol: "tcp", Source: netip.MustParseAddr(src), Dest: netip.MustParseAddr("10.96.0.150"), Port: 80, From: mustEntry(from), ServicePort: "default"},
		Outcomes: []dataplane.Outcome{
			out("10.244.1.7:9376", sep1, "33.3%"), out("10.244.2.5:9376", sep2, "33.3%"), stale,
		},
		Steps: steps,
	}
}

// ruleText looks a rule up in the fixture so steps quote it exactly.
func ruleText(chains []dataplane.Listing, chain string, line int) string {
	for _, c := range chains {
		if c.Name != chain {
			continue
		}
		for _, r := range c.Rules {
			if r.Line == line {
				return r.Text
			}
		}
	}
	return ""
}
