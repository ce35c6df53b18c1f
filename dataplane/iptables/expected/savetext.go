package expected

import (
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/savefmt"
)

// Save returns SaveTable for filter, nat and mangle, in that order.
func (rs *Ruleset) Save() (string, error) {
	var b strings.Builder
	for _, t := range []string{TableFilter, TableNAT, TableMangle} {
		s, err := rs.SaveTable(t)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// SaveTable returns the kube-proxy part of what "iptables-save -t table"
// prints once the rule set is installed on a node whose built-in chains
// were empty: "*table", the declarations of kube-proxy's chains (sorted by
// name, as iptables-save sorts them, with zero counters), the jump rules in
// built-in chains, the rules of each kube-proxy chain, and COMMIT. The
// declarations of built-in chains are left out, their policies not being
// kube-proxy's.
func (rs *Ruleset) SaveTable(table string) (string, error) {
	chains, rules := rs.tableContent(table)
	var b strings.Builder
	b.WriteString("*" + table + "\n")
	for _, c := range chains {
		b.WriteString(":" + c + " - [0:0]\n")
	}
	byChain := map[string][]Rule{}
	for _, r := range rules {
		byChain[r.Chain] = append(byChain[r.Chain], r)
	}
	for _, j := range slices.Backward(rs.Jumps) {
		if j.Table == table {
			byChain[j.Chain] = append(byChain[j.Chain], j)
		}
	}
	for _, c := range append(savefmt.BuiltinChains(table), chains...) {
		for _, r := range byChain[c] {
			line, err := Normalize(rs.Family, r)
			if err != nil {
				return "", err
			}
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	b.WriteString("COMMIT\n")
	return b.String(), nil
}

// tableContent returns the sorted, distinct chains kube-proxy creates in
// table and the restore-input rules of that table.
func (rs *Ruleset) tableContent(table string) ([]string, []Rule) {
	var chains []string
	var rules []Rule
	switch table {
	case TableFilter:
		chains, rules = slices.Clone(rs.FilterChains), rs.Filter
	case TableNAT:
		chains, rules = slices.Clone(rs.NATChains), rs.NAT
	}
	for _, c := range rs.EnsuredChains {
		if c.Table == table {
			chains = append(chains, c.Chain)
		}
	}
	slices.Sort(chains)
	return slices.Compact(chains), rules
}
