package iptables

import (
	"fmt"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// compareServiceChains compares each KUBE-SVC/SVL/EXT/FW chain.
func (dc *driftCmp) compareServiceChains() {
	for _, e := range dc.exp.chains {
		if isSEP(e.Name) {
			continue
		}
		a := dc.act.has[dc.renameFn(e.Name)]
		if a == nil {
			dc.addChain(ServiceChainMissing, e, true, "chain %s is missing; traffic matching the Service entry cannot be load-balanced", e.Name)
			continue
		}
		dc.compareBalancing(e, a)
		dc.compareRules(e, a, func(r *Rule) bool { return isSEP(r.Target.Name) && !hasRecentCheck(r) })
	}
	for _, a := range dc.act.chains {
		if !isSEP(a.Name) && !dc.claimed[a.Name] {
			dc.addChain(StaleServiceChain, a, false, "chain %s is not expected for this Service", a.Name)
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
			dc.add(EndpointChainMissing, a.Table, a.Name, r, nil, "no rule sends traffic to %s (endpoint %s); it gets none of the new connections", at, endpointOf(dc.act.has[at]))
		case ok && !probEqual(got, expShare[t]):
			dc.add(ProbabilityMismatch, a.Table, a.Name, r, actRule[at],
				"endpoint chain %s gets %s of new connections, want %s", at, percent(got), percent(expShare[t]))
		}
	}
	for _, r := range a.Rules {
		t := r.Target.Name
		if actRule[t] == r && !wanted[t] {
			dc.add(StaleEndpointChain, a.Table, a.Name, nil, r, "%s of new connections go to %s (endpoint %s), which is not a ready endpoint",
				percent(actShare[t]), t, orUnknown(dc.act.has[t]))
		}
	}
}

func orUnknown(c *Chain) string {
	if c == nil {
		return "unknown: chain missing"
	}
	if ep := endpointOf(c); ep != "" {
		return ep
	}
	return "unknown"
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
		dc.add(ServiceRuleMissing, a.Table, a.Name, r, nil, "rule missing from %s", a.Name)
	}
	for _, r := range a.Rules {
		if skip(r) {
			continue
		}
		if rs := pool[ruleKey(r, nil)]; len(rs) > 0 && rs[0] == r {
			pool[ruleKey(r, nil)] = rs[1:]
			dc.add(StaleServiceRule, a.Table, a.Name, nil, r, "rule in %s that kube-proxy would not write", a.Name)
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
			dc.addChain(EndpointChainMissing, e, true, "ready endpoint %s has no chain %s; it gets no traffic", endpointOf(e), e.Name)
			continue
		}
		ed, ad := dnatRule(e), dnatRule(a)
		if ed != nil && ad != nil && ed.Target.ToDestination != ad.Target.ToDestination {
			dc.add(DNATTargetMismatch, a.Table, a.Name, ed, ad, "DNAT to %s, want %s", ad.Target.ToDestination, ed.Target.ToDestination)
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
			dc.addChain(StaleEndpointChain, a, false, "endpoint chain %s (DNAT to %s) is not for a ready endpoint", a.Name, orUnknown(a))
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
// KUBE-SERVICES, which makes every Service rule unreachable.
func (dc *driftCmp) portals(actual *Dump) {
	if dc.act.empty() || actual.Chain("nat", "KUBE-SERVICES") == nil {
		return
	}
	for _, hook := range []string{"PREROUTING", "OUTPUT"} {
		c := actual.Chain("nat", hook)
		if c == nil || c.Line == 0 {
			continue
		}
		found := false
		for _, r := range c.Rules {
			found = found || r.Target.Name == "KUBE-SERVICES"
		}
		if !found {
			dc.addChain(ServicePortalsJumpMissing, c, false, "nat %s does not jump to KUBE-SERVICES; %s",
				hook, fmt.Sprintf("no Service rule is reached from %s", map[string]string{"PREROUTING": "pods or outside", "OUTPUT": "the node itself"}[hook]))
		}
	}
}
