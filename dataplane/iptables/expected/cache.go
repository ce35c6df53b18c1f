package expected

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Cache generates as Generate does, keeping each Service's rules from one
// call to the next: a Service whose object and EndpointSlices are the same
// objects as last time (an informer's cache hands unchanged objects out
// again) is not generated again, so a sync after one endpoint change
// generates one Service instead of thousands. The result equals
// Generate's. A Cache is not safe for concurrent use.
type Cache struct {
	// PartsOnly leaves the rule set's NAT, Filter and NATChains empty: its
	// rules are in Head, Parts and Tail alone (Ruleset.Flat joins them).
	// A caller that builds from the parts saves copying every rule at every
	// call.
	PartsOnly bool

	node     Node
	services map[serviceKey]*generated
}

type serviceKey struct{ namespace, name string }

// generated is one Service's part of a rule set and what it was made from.
type generated struct {
	svc      *corev1.Service
	slices   []*discoveryv1.EndpointSlice
	ports    []*ServicePort
	byKey    map[portKey]*ServicePort
	warnings []string
	// endpoints counts the ports' endpoints, for the large-cluster mode.
	endpoints int
	// part holds the rules once rendered (nil before), and large says in
	// which mode they were written.
	part  *Part
	large bool
}

// Part is one Service's share of a rule set made by Cache.Generate: its
// rules (in its own chains and in the shared ones) and the chains of its
// own it declares. Generate hands out the same *Part again while the
// Service, its slices and the large-cluster mode are unchanged, so a
// caller can tell what changed by comparing pointers.
type Part struct {
	NAT, Filter []Rule
	NATChains   []string
}

// Generate returns what Generate(node, services, slices) returns.
func (cc *Cache) Generate(node Node, services []*corev1.Service, epSlices []*discoveryv1.EndpointSlice) (*Ruleset, error) {
	c, err := node.resolve()
	if err != nil {
		return nil, err
	}
	if cc.services == nil || !reflect.DeepEqual(node, cc.node) {
		cc.node, cc.services = node, map[serviceKey]*generated{}
	}
	bySvc := map[serviceKey][]*discoveryv1.EndpointSlice{}
	for _, s := range epSlices {
		if s != nil {
			k := serviceKey{s.Namespace, s.Labels[discoveryv1.LabelServiceName]}
			bySvc[k] = append(bySvc[k], s)
		}
	}
	g := &generator{c: c, rs: &Ruleset{Family: c.family, byKey: map[portKey]*ServicePort{}}}
	now := make(map[serviceKey]*generated, len(services))
	total := 0
	for _, svc := range services {
		if svc == nil {
			continue
		}
		k := serviceKey{svc.Namespace, svc.Name}
		e := cc.services[k]
		if e == nil || e.svc != svc || !slices.Equal(e.slices, bySvc[k]) {
			e = &generated{svc: svc, slices: bySvc[k]}
			warn := func(format string, args ...any) { e.warnings = append(e.warnings, fmt.Sprintf(format, args...)) }
			e.ports, e.byKey = servicePorts(c, []*corev1.Service{svc}, warn)
			attachEndpoints(c, e.byKey, e.slices)
			for _, sp := range e.ports {
				e.endpoints += len(sp.all)
			}
		}
		if old := now[k]; old != nil {
			total -= old.endpoints // a second object of the same name replaces the first, as in Generate
		}
		now[k] = e
		total += e.endpoints
		g.rs.Warnings = append(g.rs.Warnings, e.warnings...)
	}
	cc.services = now
	large := total > largeClusterThreshold
	keys := make([]serviceKey, 0, len(now))
	for k := range now {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b serviceKey) int {
		return cmp.Or(cmp.Compare(a.namespace, b.namespace), cmp.Compare(a.name, b.name))
	})

	g.rs.LargeCluster = large
	g.rs.Filter = make([]Rule, 0, 16)
	if !cc.PartsOnly {
		g.rs.NAT = make([]Rule, 0, 8+total*3+len(now)*4)
		g.rs.NATChains = make([]string, 0, 4+total+len(now)*2)
	}
	g.rs.Jumps, g.rs.EnsuredChains = jumpRules()
	g.writeHeader()
	head := g.rs.partSince(0, 0, 0)
	g.rs.Parts = make([]*Part, 0, len(keys))
	for _, k := range keys {
		e := now[k]
		if e.part == nil || e.large != large {
			cc.render(g, e, large)
		}
		if !cc.PartsOnly {
			g.rs.NAT = append(g.rs.NAT, e.part.NAT...)
			g.rs.Filter = append(g.rs.Filter, e.part.Filter...)
			g.rs.NATChains = append(g.rs.NATChains, e.part.NATChains...)
		}
		g.rs.Parts = append(g.rs.Parts, e.part)
		g.rs.Services = append(g.rs.Services, e.ports...)
		for pk, sp := range e.byKey {
			g.rs.byKey[pk] = sp
		}
	}
	nat, filter, chains := len(g.rs.NAT), len(g.rs.Filter), len(g.rs.NATChains)
	g.writeTrailer()
	g.rs.Head, g.rs.Tail = head, g.rs.partSince(nat, filter, chains)
	if cc.PartsOnly {
		g.rs.NAT, g.rs.Filter, g.rs.NATChains = nil, nil, nil
	}
	return g.rs, nil
}

// Flat returns rs with NAT, Filter and NATChains filled from its parts
// when a Cache with PartsOnly made it, else rs itself.
func (rs *Ruleset) Flat() *Ruleset {
	if rs.Head == nil || rs.NATChains != nil {
		return rs
	}
	out := *rs
	for _, p := range append(append([]*Part{rs.Head}, rs.Parts...), rs.Tail) {
		out.NAT = append(out.NAT, p.NAT...)
		out.Filter = append(out.Filter, p.Filter...)
		out.NATChains = append(out.NATChains, p.NATChains...)
	}
	return &out
}

// partSince is the part of rs written after it held nat NAT rules, filter
// Filter rules and chains NAT chains.
func (rs *Ruleset) partSince(nat, filter, chains int) *Part {
	return &Part{NAT: slices.Clip(rs.NAT[nat:]), Filter: slices.Clip(rs.Filter[filter:]), NATChains: slices.Clip(rs.NATChains[chains:])}
}

// render writes e's ports' rules with a generator of their own, sharing
// g's node and probabilities.
func (cc *Cache) render(g *generator, e *generated, large bool) {
	own := &generator{c: g.c, rs: &Ruleset{Family: g.rs.Family, LargeCluster: large}, probs: g.probs}
	for _, sp := range e.ports {
		own.writeServicePort(sp)
	}
	g.probs = own.probs
	e.part = &Part{NAT: own.rs.NAT, Filter: own.rs.Filter, NATChains: own.rs.NATChains}
	e.large = large
}
