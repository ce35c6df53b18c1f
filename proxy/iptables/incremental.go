package iptables

import (
	"maps"
	"slices"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// A partial sync at thousands of Services would spend most of its Go time
// rebuilding and comparing tens of thousands of chains of which one
// Service's changed. buildFrom builds the next Desired from the previous
// one instead, touching only the chains of the Services whose part of the
// rule set changed (expected.Part identity) and the shared chains, and
// records which chains those are, so the diff looks at them alone. The
// result equals Build's (TestBuildFromEqualsBuild).

// builtPart is an expected.Part in the layout: the chains it declares,
// their rules, and its rules in shared chains, in order.
type builtPart struct {
	own      []ref
	ownRules [][]string
	shared   []sharedRule
}

type sharedRule struct {
	r    ref
	spec string
}

// incremental is what a Desired built from parts keeps for the next one.
type incremental struct {
	// parts are the rule set's parts in order; built holds them in the
	// layout; shared are the shared chains with their rules.
	parts  []*expected.Part
	built  map[*expected.Part]*builtPart
	shared map[ref][]string
	// base is the Desired this one was built from, and changed the
	// chains that may differ from base's; both nil when built whole.
	base    *Desired
	changed map[ref]bool
}

// buildPart renames p's rules into layout l.
func buildPart(p *expected.Part, l Layout) *builtPart {
	b := &builtPart{}
	index := map[ref]int{}
	for _, c := range p.NATChains {
		r := ref{expected.TableNAT, l.Chain(c)}
		if _, ok := index[r]; !ok {
			index[r] = len(b.own)
			b.own = append(b.own, r)
			b.ownRules = append(b.ownRules, nil)
		}
	}
	add := func(table string, rules []expected.Rule) {
		for _, rule := range rules {
			r := ref{table, l.Chain(rule.Chain)}
			if i, ok := index[r]; ok {
				b.ownRules[i] = append(b.ownRules[i], l.Spec(rule.Spec))
			} else {
				b.shared = append(b.shared, sharedRule{r, l.Spec(rule.Spec)})
			}
		}
	}
	add(expected.TableFilter, p.Filter)
	add(expected.TableNAT, p.NAT)
	return b
}

// BuildFrom builds rs into layout l, from prev (the last Desired built,
// nil for none) where it can: see buildFrom.
func BuildFrom(prev *Desired, rs *expected.Ruleset, l Layout) *Desired {
	if prev != nil {
		// Only the newest Desired needs its base: dropping it keeps a chain
		// of past states from staying alive.
		defer func() {
			if prev.inc != nil {
				prev.inc.base, prev.inc.changed = nil, nil
			}
		}()
	}
	if rs.Parts == nil {
		return Build(rs, l)
	}
	if !canBuildFrom(prev, rs) {
		// Every part anew, from an empty state; with no base, the diff
		// compares every chain.
		d := buildFrom(&Desired{family: rs.Family, rules: map[ref][]string{}, inc: &incremental{}}, rs, l)
		d.inc.base, d.inc.changed = nil, nil
		return d
	}
	return buildFrom(prev, rs, l)
}

// canBuildFrom says whether rs differs from prev's rule set only in parts:
// the same family and the same shared chains declared.
func canBuildFrom(prev *Desired, rs *expected.Ruleset) bool {
	return prev != nil && prev.inc != nil && rs.Parts != nil && prev.family == rs.Family &&
		slices.Equal(prev.Ruleset.FilterChains, rs.FilterChains) && slices.Equal(prev.Ruleset.Head.NATChains, rs.Head.NATChains)
}

func buildFrom(prev *Desired, rs *expected.Ruleset, l Layout) *Desired {
	d := &Desired{family: rs.Family, Ruleset: rs, rules: maps.Clone(prev.rules)}
	inc := &incremental{parts: rs.Parts, built: make(map[*expected.Part]*builtPart, len(rs.Parts)), base: prev, changed: map[ref]bool{}}
	d.inc = inc
	for _, p := range rs.Parts {
		if b, ok := prev.inc.built[p]; ok {
			inc.built[p] = b
		}
	}
	// A part of prev absent from rs went; its chains go first, then
	// those of new parts: a chain that moved from one part to another
	// ends up with its new rules.
	for _, p := range prev.inc.parts {
		if _, kept := inc.built[p]; !kept {
			for _, r := range prev.inc.built[p].own {
				delete(d.rules, r)
				inc.changed[r] = true
			}
		}
	}
	for _, p := range rs.Parts {
		if _, kept := inc.built[p]; kept {
			continue
		}
		b := buildPart(p, l)
		inc.built[p] = b
		for i, r := range b.own {
			d.rules[r] = b.ownRules[i]
			inc.changed[r] = true
		}
	}
	for r := range prev.inc.shared {
		delete(d.rules, r)
		inc.changed[r] = true
	}
	inc.shared = sharedChains(d, rs, l)
	for r, rules := range inc.shared {
		d.rules[r] = rules
		inc.changed[r] = true
	}
	d.order = declared(rs, l, inc)
	d.jumps, d.ensured = desiredJumps(rs, l, d.rules)
	return d
}

// sharedChains are the chains no part owns, with their rules: those the
// rule set declares first (empty when they have none) and those its head,
// parts and tail write into, in that order.
func sharedChains(d *Desired, rs *expected.Ruleset, l Layout) map[ref][]string {
	out := map[ref][]string{}
	for _, c := range rs.FilterChains {
		out[ref{expected.TableFilter, l.Chain(c)}] = nil
	}
	for _, c := range rs.Head.NATChains {
		out[ref{expected.TableNAT, l.Chain(c)}] = nil
	}
	add := func(rules []sharedRule) {
		for _, s := range rules {
			out[s.r] = append(out[s.r], s.spec)
		}
	}
	// The head declares shared chains only: every rule of it, and of the
	// tail, is in one.
	add(buildPart(&expected.Part{NAT: rs.Head.NAT, Filter: rs.Head.Filter}, l).shared)
	for _, p := range rs.Parts {
		add(d.inc.built[p].shared)
	}
	add(buildPart(&expected.Part{NAT: rs.Tail.NAT, Filter: rs.Tail.Filter}, l).shared)
	return out
}

// declared is the chains' declaration order Build gives: the filter
// chains, then the nat ones, each once.
func declared(rs *expected.Ruleset, l Layout, inc *incremental) []ref {
	n := len(rs.FilterChains) + len(rs.Head.NATChains)
	for _, p := range rs.Parts {
		n += len(inc.built[p].own)
	}
	order := make([]ref, 0, n)
	for _, c := range rs.FilterChains {
		order = append(order, ref{expected.TableFilter, l.Chain(c)})
	}
	for _, c := range rs.Head.NATChains {
		order = append(order, ref{expected.TableNAT, l.Chain(c)})
	}
	for _, p := range rs.Parts {
		order = append(order, inc.built[p].own...)
	}
	return slices.Compact(order)
}
