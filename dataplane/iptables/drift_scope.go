package iptables

import (
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// scope is what one dump holds for one Service.
type scope struct {
	d *Dump
	// top are the Service's rules in shared chains (KUBE-SERVICES, ...).
	top []*Rule
	// chains are the Service's own chains, in discovery order.
	chains []*Chain
	has    map[string]*Chain
}

func (s *scope) empty() bool { return len(s.top) == 0 && len(s.chains) == 0 }

func (s *scope) chainNames() []string {
	names := make([]string, len(s.chains))
	for i, c := range s.chains {
		names[i] = c.Name
	}
	return names
}

// isServiceChain reports whether name is a per-Service chain of kube-proxy
// or of scoped --serve.
func isServiceChain(name string) bool { return expected.IsServiceChain(expected.KubeName(name)) }

// foreign reports whether chain belongs to the other layout than l (a
// kube-proxy chain when judging scoped --serve's, or the reverse).
func foreign(l expected.Layout, chain string) bool {
	return l.Chain(expected.KubeName(chain)) != chain
}

// chainKind is the prefix of a per-Service chain name ("KUBE-SVC-").
func chainKind(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 && isServiceChain(name) {
		return name[:i+1]
	}
	return name
}

// collectScope finds the Service's rules and chains in d: rules whose
// comment names a port, chains they jump to (transitively), and the chains
// named in svc.Chains and extra; rules in chains of the other layout are
// left out.
func collectScope(d *Dump, svc Service, extra []string) *scope {
	s := &scope{d: d, has: map[string]*Chain{}}
	seen := map[*Rule]bool{}
	var queue []*Chain
	addChain := func(c *Chain) {
		if c != nil && s.has[c.Name] == nil {
			s.has[c.Name] = c
			s.chains = append(s.chains, c)
			queue = append(queue, c)
		}
	}
	for _, pn := range svc.PortNames {
		for _, r := range d.RulesForService(pn) {
			if seen[r] || foreign(svc.Layout, r.Chain) {
				continue
			}
			seen[r] = true
			if isServiceChain(r.Chain) {
				addChain(d.Chain(r.Table, r.Chain))
				continue
			}
			s.top = append(s.top, r)
			if isServiceChain(r.Target.Name) {
				addChain(d.Chain(r.Table, r.Target.Name))
			}
		}
	}
	for _, name := range append(append([]string(nil), svc.Chains...), extra...) {
		addChain(d.Chain("nat", name))
	}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, r := range c.Rules {
			if isServiceChain(r.Target.Name) {
				addChain(d.Chain(c.Table, r.Target.Name))
			}
		}
	}
	return s
}

// endpointOf returns the DNAT target of an endpoint chain, or "".
func endpointOf(c *Chain) string {
	if c == nil {
		return ""
	}
	if r := dnatRule(c); r != nil {
		return r.Target.ToDestination
	}
	return ""
}

func dnatRule(c *Chain) *Rule {
	for _, r := range c.Rules {
		if r.Target.Name == "DNAT" {
			return r
		}
	}
	return nil
}

// mapChains pairs expected chains with actual ones: by name, endpoint
// chains by their DNAT target, and the rest by the rules that jump to them.
func (dc *driftCmp) mapChains() {
	dc.rename, dc.claimed = map[string]string{}, map[string]bool{}
	for _, c := range dc.exp.chains {
		if dc.act.has[c.Name] != nil {
			dc.pair(c.Name, c.Name)
		}
	}
	for _, c := range dc.exp.chains {
		if _, done := dc.rename[c.Name]; done || !isSEP(c.Name) {
			continue
		}
		ep := endpointOf(c)
		for _, a := range dc.act.chains {
			if ep != "" && isSEP(a.Name) && !dc.claimed[a.Name] && endpointOf(a) == ep {
				dc.pair(c.Name, a.Name)
				break
			}
		}
	}
	for changed := true; changed; {
		changed = dc.pairByJumps(dc.exp.top, dc.act.top)
		for _, c := range dc.exp.chains {
			if a := dc.act.has[dc.renameFn(c.Name)]; a != nil && dc.pairByJumps(c.Rules, a.Rules) {
				changed = true
			}
		}
	}
}

func (dc *driftCmp) pair(exp, act string) {
	dc.rename[exp] = act
	dc.claimed[act] = true
}

// pairByJumps pairs the unpaired targets of expected rules with the
// targets of actual rules that are the same apart from the chain hash.
func (dc *driftCmp) pairByJumps(exp, act []*Rule) bool {
	kind := func(n string) string { return chainKind(dc.renameFn(n)) }
	changed := false
	for _, e := range exp {
		t := e.Target.Name
		if _, done := dc.rename[t]; done || !isServiceChain(t) || isSEP(t) {
			continue
		}
		k := e.Table + e.Chain + ruleKey(e, kind)
		for _, a := range act {
			at := a.Target.Name
			if isServiceChain(at) && !dc.claimed[at] && dc.act.has[at] != nil &&
				a.Table+a.Chain+ruleKey(a, chainKind) == k {
				dc.pair(t, at)
				changed = true
				break
			}
		}
	}
	return changed
}
