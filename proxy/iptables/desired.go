package iptables

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// ref names a chain in a table.
type ref struct{ table, chain string }

// Desired is the complete state the programmer wants in the kernel, built
// from the same generator the trace judges kube-proxy with.
type Desired struct {
	family corev1.IPFamily
	// order lists the chains of each table as the restore input declares
	// them; rules holds each chain's rule specs (restore-input text after
	// "-A CHAIN "), in order.
	order []ref
	rules map[ref][]string
	// jumps are the rules in built-in chains, ensured one by one; ensured
	// are chains created outside the restore input (canaries).
	jumps   []expected.Rule
	ensured []ref
	// Ruleset is the generator's output before renaming.
	Ruleset *expected.Ruleset
	// norm caches normalized rules per chain (see normalized).
	norm map[ref][]string
	// inc is kept when the rule set came in parts (BuildFrom).
	inc *incremental
}

var tables = []string{expected.TableFilter, expected.TableNAT}

// Build renames the generator's rule set into layout l.
func Build(rs *expected.Ruleset, l Layout) *Desired {
	rs = rs.Flat()
	d := &Desired{family: rs.Family, rules: make(map[ref][]string, len(rs.NATChains)+len(rs.FilterChains)), Ruleset: rs}
	add := func(table string, chains []string, rules []expected.Rule) {
		for _, c := range chains {
			r := ref{table, l.Chain(c)}
			if _, ok := d.rules[r]; !ok {
				d.order = append(d.order, r)
				d.rules[r] = nil
			}
		}
		// The generator writes a chain's rules one after another, so the
		// map is consulted once per run of rules, not once per rule.
		var cur ref
		var specs []string
		flush := func() {
			if specs != nil {
				d.rules[cur] = specs
			}
		}
		for _, rule := range rules {
			if r := (ref{table, l.Chain(rule.Chain)}); specs == nil || r != cur {
				flush()
				cur, specs = r, d.rules[r]
			}
			specs = append(specs, l.Spec(rule.Spec))
		}
		flush()
	}
	add(expected.TableFilter, rs.FilterChains, rs.Filter)
	add(expected.TableNAT, rs.NATChains, rs.NAT)
	d.jumps, d.ensured = desiredJumps(rs, l, d.rules)
	return d
}

// desiredJumps are rs's jumps from built-in chains in layout l, and the
// chains to ensure that rules does not declare.
func desiredJumps(rs *expected.Ruleset, l Layout, rules map[ref][]string) (jumps []expected.Rule, ensured []ref) {
	for _, j := range rs.Jumps {
		jumps = append(jumps, expected.Rule{Table: j.Table, Chain: j.Chain, Spec: l.Spec(j.Spec)})
	}
	for _, c := range rs.EnsuredChains {
		r := ref{c.Table, l.Chain(c.Chain)}
		if _, declared := rules[r]; !declared {
			ensured = append(ensured, r)
		}
	}
	return jumps, ensured
}

// Chains returns the number of chains the restore input declares.
func (d *Desired) Chains() int { return len(d.order) }

// normalized returns the rules of chain r as iptables-save prints them,
// reusing prev's result when the chain did not change: a full sync at
// thousands of Services would otherwise spend most of its time here.
func (d *Desired) normalized(r ref, prev *Desired) ([]string, error) {
	if n, ok := d.norm[r]; ok {
		return n, nil
	}
	specs := d.rules[r]
	if prev != nil && prev.norm != nil {
		if n, ok := prev.norm[r]; ok && slices.Equal(prev.rules[r], specs) {
			d.keepNorm(r, n)
			return n, nil
		}
	}
	out := make([]string, len(specs))
	for i, s := range specs {
		line, err := expected.Normalize(d.family, expected.Rule{Table: r.table, Chain: r.chain, Spec: s})
		if err != nil {
			return nil, fmt.Errorf("normalize a rule of %s/%s: %w", r.table, r.chain, err)
		}
		out[i] = line
	}
	d.keepNorm(r, out)
	return out, nil
}

func (d *Desired) keepNorm(r ref, n []string) {
	if d.norm == nil {
		d.norm = make(map[ref][]string, len(d.rules))
	}
	d.norm[r] = n
}

// rulesOf returns chain r's rules and whether d declares it; a nil d
// declares nothing.
func (d *Desired) rulesOf(r ref) ([]string, bool) {
	if d == nil {
		return nil, false
	}
	rules, ok := d.rules[r]
	return rules, ok
}
