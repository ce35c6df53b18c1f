package iptables

import (
	"math"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// The kinds of differences Drift reports.
const (
	// KubeServicesEntryMissing: another rule of a top-level chain for the
	// Service is missing (KUBE-NODEPORTS, KUBE-EXTERNAL-SERVICES, filter
	// KUBE-SERVICES, ...).
	KubeServicesEntryMissing dataplane.DiffKind = "KubeServicesEntryMissing"
	// ServiceChainMissing: the Service's nat KUBE-SERVICES entry or a
	// KUBE-SVC/SVL/EXT/FW chain is not there.
	ServiceChainMissing dataplane.DiffKind = "ServiceChainMissing"
	// EndpointChainMissing: no KUBE-SEP chain for a ready endpoint.
	EndpointChainMissing dataplane.DiffKind = "EndpointChainMissing"
	// StaleEndpointChain: a KUBE-SEP chain, or a rule sending traffic to
	// one, for an endpoint that is not (or no longer) ready.
	StaleEndpointChain dataplane.DiffKind = "StaleEndpointChain"
	// ProbabilityMismatch: an endpoint gets a different share of traffic.
	ProbabilityMismatch dataplane.DiffKind = "ProbabilityMismatch"
	// DNATTargetMismatch: an endpoint chain DNATs somewhere else.
	DNATTargetMismatch dataplane.DiffKind = "DNATTargetMismatch"
	// NoEndpointsRejectRule: the filter REJECT (or DROP) rule for a Service
	// without (local) endpoints is missing.
	NoEndpointsRejectRule dataplane.DiffKind = "NoEndpointsRejectRule"
	// ServiceRuleMissing: another rule of a service or endpoint chain is
	// missing (masquerade, hairpin, affinity, ...).
	ServiceRuleMissing dataplane.DiffKind = "ServiceRuleMissing"
	// StaleServiceRule: the node has a rule for the Service that kube-proxy
	// would not write now (e.g. a REJECT although endpoints exist).
	StaleServiceRule dataplane.DiffKind = "StaleServiceRule"
	// StaleServiceChain: the node has a KUBE-SVC/SVL/EXT/FW chain for the
	// Service that kube-proxy would not write now.
	StaleServiceChain dataplane.DiffKind = "StaleServiceChain"
	// StaleProxyRules: the node has rules for a Service for which nothing
	// is expected: left behind by a stopped kube-proxy or one now running
	// in another mode.
	StaleProxyRules = dataplane.StaleProxyRules
	// ServicePortalsJumpMissing: nat PREROUTING and OUTPUT do not jump to
	// KUBE-SERVICES, so none of the Service rules are reached.
	ServicePortalsJumpMissing dataplane.DiffKind = "ServicePortalsJumpMissing"
)

// Service identifies the Service whose rules Drift compares.
type Service struct {
	// PortNames are the service-port names as kube-proxy writes them in
	// comments: "ns/name:port", or "ns/name" for an unnamed port (the old
	// "ns/name:" spelling is matched too).
	PortNames []string
	// Chains optionally names chains of the Service. Chains reachable from
	// the Service's top-level rules, and chains whose comments name a port,
	// are found without being listed.
	Chains []string
	// Layout names the chains the Service's rules are judged in: kube-proxy's
	// (the zero value), or scoped --serve's SVCT- chains. Rules for the
	// Service in the other layout's chains are not part of the comparison.
	Layout expected.Layout
}

// probTolerance absorbs the rounding of %0.5f, %0.10f and the kernel's
// lround(p*2^31) printback, while any real change of weights (1/3 versus
// 1/4 is 0.08) stays far above it.
const probTolerance = 1e-4

// Drift compares the rules kube-proxy should have written for svc
// (expected, usually iptables-restore input) with a node's iptables-save
// output (actual). Differences of comments, match order, address spelling,
// probability precision and, for endpoint chains, chain hashes (old
// kube-proxy releases hashed "ns/name:" port names) are tolerated.
func Drift(expected, actual *Dump, svc Service) []dataplane.Diff {
	exp := collectScope(expected, svc, nil)
	act := collectScope(actual, svc, exp.chainNames())
	dc := &driftCmp{exp: exp, act: act, layout: svc.Layout}
	if exp.empty() {
		return dc.leftovers()
	}
	dc.mapChains()
	dc.compareTop()
	dc.compareServiceChains()
	dc.compareEndpointChains()
	dc.portals(actual)
	return dc.out
}

type driftCmp struct {
	exp, act *scope
	layout   expected.Layout
	// rename maps expected chain names to actual ones.
	rename map[string]string
	// claimed marks actual chains some expected chain maps to.
	claimed map[string]bool
	out     []dataplane.Diff
}

// add reports d, with its facts set, at a rule of table and chain: e is
// the rule kube-proxy writes there, a the node's (either may be nil).
func (dc *driftCmp) add(d dataplane.Diff, table, chain string, e, a *Rule) {
	d.Where = dataplane.Locator{Mode: dataplane.ModeIPTables, Table: table, Chain: chain}
	if e != nil {
		d.Expected, d.ExpectedLine = e.Text, e.Line
	}
	if a != nil {
		d.Actual, d.Where.Line = a.Text, a.Line
	}
	dc.out = append(dc.out, d)
}

// addChain reports a whole chain, by its declaration line on the side
// that has it.
func (dc *driftCmp) addChain(d dataplane.Diff, c *Chain, expectedSide bool) {
	d.Where, d.Whole = dataplane.Locator{Mode: dataplane.ModeIPTables, Table: c.Table, Chain: c.Name}, true
	decl := ":" + c.Name + " " + c.Policy
	if expectedSide {
		d.Expected, d.ExpectedLine = decl, c.Line
	} else {
		d.Actual, d.Where.Line = decl, c.Line
	}
	dc.out = append(dc.out, d)
}

// leftovers reports everything the node has for a Service nothing is
// expected for.
func (dc *driftCmp) leftovers() []dataplane.Diff {
	for _, r := range dc.act.top {
		dc.add(dataplane.Diff{Kind: StaleProxyRules}, r.Table, r.Chain, nil, r)
	}
	for _, c := range dc.act.chains {
		dc.addChain(dataplane.Diff{Kind: StaleProxyRules}, c, false)
	}
	return dc.out
}

func (dc *driftCmp) renameFn(name string) string {
	if n, ok := dc.rename[name]; ok {
		return n
	}
	return name
}

// compareTop matches the Service's rules in top-level chains.
func (dc *driftCmp) compareTop() {
	pool := map[string][]*Rule{}
	for _, r := range dc.act.top {
		k := r.Table + " " + r.Chain + " " + ruleKey(r, nil)
		pool[k] = append(pool[k], r)
	}
	for _, r := range dc.exp.top {
		k := r.Table + " " + r.Chain + " " + ruleKey(r, dc.renameFn)
		if len(pool[k]) > 0 {
			pool[k] = pool[k][1:]
			continue
		}
		if r.Table == "filter" && (r.Target.Name == "REJECT" || r.Target.Name == "DROP") {
			dc.add(dataplane.Diff{Kind: NoEndpointsRejectRule, WantTarget: r.Target.Name, Service: r.Comment()}, r.Table, r.Chain, r, nil)
			continue
		}
		if r.Table == "nat" && expected.KubeName(r.Chain) == expected.ChainServices && isServiceChain(r.Target.Name) {
			// The Service's own entry point: without it nothing reaches its
			// chains, whatever state they are in.
			dc.add(dataplane.Diff{Kind: ServiceChainMissing, Service: r.Comment(), WantTarget: r.Target.Name}, r.Table, r.Chain, r, nil)
			continue
		}
		dc.add(dataplane.Diff{Kind: KubeServicesEntryMissing, Service: r.Comment()}, r.Table, r.Chain, r, nil)
	}
	for _, r := range dc.act.top {
		k := r.Table + " " + r.Chain + " " + ruleKey(r, nil)
		if rs := pool[k]; len(rs) > 0 && rs[0] == r {
			pool[k] = rs[1:]
			dc.add(dataplane.Diff{Kind: StaleServiceRule, Target: r.Target.Name}, r.Table, r.Chain, nil, r)
		}
	}
}

// effective returns each endpoint chain's share of the load-balancing rules
// of c (rules without a statistic match take all that remains), skipping
// affinity (recent --rcheck) rules, and the rule that sends to it.
func effective(c *Chain) (map[string]float64, map[string]*Rule) {
	share, rules := map[string]float64{}, map[string]*Rule{}
	remaining := 1.0
	for _, r := range c.Rules {
		if !isSEP(r.Target.Name) || hasRecentCheck(r) {
			continue
		}
		p := 1.0
		if s := r.Statistic(); s != nil && s.Mode == "random" {
			p = s.Probability
		}
		share[r.Target.Name] += remaining * p
		remaining *= 1 - p
		if rules[r.Target.Name] == nil {
			rules[r.Target.Name] = r
		}
	}
	return share, rules
}

func hasRecentCheck(r *Rule) bool {
	for _, m := range r.Matches {
		if rm, ok := m.(*RecentMatch); ok && rm.Command != "set" {
			return true
		}
	}
	return false
}

func probEqual(a, b float64) bool { return math.Abs(a-b) <= probTolerance }

// isSEP reports whether name is an endpoint chain, in either layout.
func isSEP(name string) bool {
	return strings.HasPrefix(expected.KubeName(name), expected.PrefixEndpoint)
}
