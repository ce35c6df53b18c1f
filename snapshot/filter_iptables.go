package snapshot

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables"
	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
)

// serviceChainPrefixes are kube-proxy's per-Service chains.
var serviceChainPrefixes = []string{"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-", "KUBE-XLB-"}

// isServiceChain reports whether name is a per-Service chain of kube-proxy
// or of scoped --serve (SVCT-SVC-…).
func isServiceChain(name string) bool {
	name = expected.KubeName(name)
	for _, p := range serviceChainPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// FilterIPTables keeps the lines of an iptables-save dump that concern f's
// Service: every shared chain and its rules, except rules that name another
// Service or jump to another Service's chains, and the Service's own chains
// (found by following jumps from its rules). Counters and line text are
// kept as they were, so the result parses like the original.
func FilterIPTables(save string, f *Filter) (string, error) {
	d, err := iptables.Parse(save)
	if err != nil {
		return "", fmt.Errorf("filter iptables-save: %w", err)
	}
	keepChain := ownChains(d, f.Service)
	drop := map[int]bool{}
	for _, t := range d.Tables {
		for _, c := range t.Chains {
			own := isServiceChain(c.Name)
			if own && !keepChain[t.Name+" "+c.Name] {
				if c.Line > 0 {
					drop[c.Line] = true
				}
				for _, r := range c.Rules {
					drop[r.Line] = true
				}
				continue
			}
			if own {
				continue
			}
			for _, r := range c.Rules {
				if !keepShared(r, t.Name, f.Service, keepChain) {
					drop[r.Line] = true
				}
			}
		}
	}
	var b strings.Builder
	n := 0
	for line := range strings.Lines(save) {
		n++
		if !drop[n] {
			b.WriteString(line)
		}
	}
	return b.String(), nil
}

// keepShared decides for a rule in a shared chain (KUBE-SERVICES, ...).
func keepShared(r *iptables.Rule, table, svc string, keepChain map[string]bool) bool {
	switch named := commentService(r.Comment()); {
	case named == svc:
		return true
	case named != "":
		return false
	}
	t := r.Target.Name
	return !isServiceChain(t) || keepChain[table+" "+t]
}

// ownChains returns "table chain" for every per-Service chain reachable from
// the rules whose comment names svc.
func ownChains(d *iptables.Dump, svc string) map[string]bool {
	keep := map[string]bool{}
	var queue []*iptables.Chain
	add := func(table, name string) {
		if !isServiceChain(name) || keep[table+" "+name] {
			return
		}
		if c := d.Chain(table, name); c != nil {
			keep[table+" "+name] = true
			queue = append(queue, c)
		}
	}
	for _, t := range d.Tables {
		for _, c := range t.Chains {
			if isServiceChain(c.Name) {
				continue
			}
			for _, r := range c.Rules {
				if commentService(r.Comment()) == svc {
					add(t.Name, r.Target.Name)
				}
			}
		}
	}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, r := range c.Rules {
			add(c.Table, r.Target.Name)
		}
	}
	return keep
}
