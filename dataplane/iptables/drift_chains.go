package iptables

import (
	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// compareServiceChains compares each KUBE-SVC/SVL/EXT/FW chain.
func (dc *driftCmp) compareServiceChains() {
	for _, e := range dc.exp.chains {
		if isSEP(e.Name) {
			continue
		}
		a := dc.act.has[dc.renameFn(e.Name)]
		if a == nil {
			dc.addChain(dataplane.Diff{Kind: ServiceChainMissing}, e, true)
			continue
		}
		dc.compareBalancing(e, a)
		dc.compareRules(e, a, func(r *Rule) bool { return isSEP(r.Target.Name) && !hasRecentCheck(r) })
	}
	for _, a := range dc.act.chains {
		if !isSEP(a.Name) && !dc.claimed[a.Name] {
			dc.addChain(dataplane.Diff{Kind: StaleServiceChain}, a, false)
		}
	}
}

// compareBalancing compares each endpoint's share of traffic.
func (dc *driftCmp) compareBalancing(e, a *Chain) {
	expShare, expRule := effective(e)
	actShare, actRule := effective(a)
	wanted := map[string]bool{}
	for _, r := range e.Rules {
		t := r.Target.Name
		if expRule[t] != r {
			continue
		}
		at := dc.renameFn(t)
		wanted[at] = true
		got, ok := actShare[at]
		switch {
		case !ok && dc.act.has[at] != nil:
			// The chain exists but nothing jumps to it: the endpoint gets
			// no traffic, exactly as if its chain were missing.
			dc.add(dataplane.Diff{Kind: EndpointChainMissing, WantTarget: at, TargetEndpoint: endpointOf(dc.act.has[at])}, a.Table, a.Name, r, nil)
		case ok && !probEqual(got, expShare[t]):
			dc.add(dataplane.Diff{Kind: ProbabilityMismatch, Target: at, Share: got, WantShare: expShare[t]}, a.Table, a.Name, r, actRule[at])
		}
	}
	for _, r := range a.Rules {
		t := r.Target.Name
		if actRule[t] == r && !wanted[t] {
			c := dc.act.has[t]
			dc.add(dataplane.Diff{Kind: StaleEndpointChain, Target: t, Share: actShare[t], TargetMissing: c == nil, TargetEndpoint: endpointOf(c)}, a.Table, a.Name, nil, r)
		}
	}
}

// compareRules matches the rules of two chains as multisets, skipping the
// rules skip selects, and reports missing and unexpected ones.
func (dc *driftCmp) compareRules(e, a *Chain, skip func(*Rule) bool) {
	pool := map[string][]*Rule{}
	for _, r := range a.Rules {
		if !skip(r) {
			k := ruleKey(r, nil)
			pool[k] = append(pool[k], r)
		}
	}
	for _, r := range e.Rules {
		if skip(r) {
			continue
		}
		k := ruleKey(r, dc.renameFn)
		if len(pool[k]) > 0 {
			pool[k] = pool[k][1:]
			continue
		}
		dc.add(dataplane.Diff{Kind: ServiceRuleMissing}, a.Table, a.Name, r, nil)
	}
	for _, r := range a.Rules {
		if skip(r) {
			continue
		}
		if rs := pool[ruleKey(r, nil)]; len(rs) > 0 && rs[0] == r {
			pool[ruleKey(r, nil)] = rs[1:]
			dc.add(dataplane.Diff{Kind: StaleServiceRule, Target: r.Target.Name}, a.Table, a.Name, nil, r)
		}
	}
}

// compareEndpointChains compares each KUBE-SEP chain.
func (dc *driftCmp) compareEndpointChains() {
	for _, e := range dc.exp.chains {
		if !isSEP(e.Name) {
			continue
		}
		a := dc.act.has[dc.renameFn(e.Name)]
		if a == nil {
			dc.addChain(dataplane.Diff{Kind: EndpointChainMissing, TargetEndpoint: endpointOf(e)}, e, true)
			continue
		}
		ed, ad := dnatRule(e), dnatRule(a)
		if ed != nil && ad != nil && ed.Target.ToDestination != ad.Target.ToDestination {
			dc.add(dataplane.Diff{Kind: DNATTargetMismatch, Target: ad.Target.ToDestination, WantTarget: ed.Target.ToDestination}, a.Table, a.Name, ed, ad)
		}
		dc.compareRules(e, a, func(r *Rule) bool { return ed != nil && ad != nil && (r == ed || r == ad) })
	}
	reported := map[string]bool{}
	for _, d := range dc.out {
		if d.Kind == StaleEndpointChain && d.Where.Line != 0 {
			reported[targetOfLine(dc.act, d)] = true
		}
	}
	for _, a := range dc.act.chains {
		if isSEP(a.Name) && !dc.claimed[a.Name] && !reported[a.Name] {
			dc.addChain(dataplane.Diff{Kind: StaleEndpointChain, TargetEndpoint: endpointOf(a)}, a, false)
		}
	}
}

// targetOfLine returns the target of the actual rule a difference names.
func targetOfLine(s *scope, d dataplane.Diff) string {
	c := s.has[d.Where.Chain]
	if c == nil {
		return ""
	}
	for _, r := range c.Rules {
		if r.Line == d.Where.Line {
			return r.Target.Name
		}
	}
	return ""
}

// portals reports a nat PREROUTING or OUTPUT chain that does not jump to
// KUBE-SERVICES (SVCT-SERVICES in the scoped layout), which makes every
// Service rule unreachable.
func (dc *driftCmp) portals(actual *Dump) {
	services := dc.layout.Chain(expected.ChainServices)
	if dc.act.empty() || actual.Chain("nat", services) == nil {
		return
	}
	for _, hook := range []string{"PREROUTING", "OUTPUT"} {
		c := actual.Chain("nat", hook)
		if c == nil || c.Line == 0 {
			continue
		}
		found := false
		for _, r := range c.Rules {
			found = found || r.Target.Name == services
		}
		if !found {
			dc.addChain(dataplane.Diff{Kind: ServicePortalsJumpMissing, WantTarget: services}, c, false)
		}
	}
}
