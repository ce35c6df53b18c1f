package nftables

import (
	"net/netip"
	"slices"
)

// ChainTargets lists, in first-seen order, every DNAT target reachable from
// chain through its rules, following jump, goto and verdict maps. It reads
// the rules statically, without a packet, so it shows what a chain can do.
func ChainTargets(t *Table, chain string) []netip.AddrPort {
	var out []netip.AddrPort
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		c := t.Chain(name)
		if c == nil || seen[name] {
			return
		}
		seen[name] = true
		for _, r := range c.Rules {
			for _, st := range r.Stmts {
				for _, ap := range stmtTargets(st) {
					if !slices.Contains(out, ap) {
						out = append(out, ap)
					}
				}
				for _, next := range stmtChains(st) {
					visit(next)
				}
			}
		}
	}
	visit(chain)
	return out
}

func stmtTargets(st Stmt) []netip.AddrPort {
	n, ok := st.(NAT)
	if !ok || n.Kind != "dnat" {
		return nil
	}
	if ml, ok := n.Addr.(MapLookup); ok {
		m, ok := ml.Data.(AnonMap)
		if !ok {
			return nil
		}
		var out []netip.AddrPort
		for _, e := range m {
			if ap, err := addrPort(e.Value, n.Port); err == nil {
				out = append(out, ap)
			}
		}
		return out
	}
	if ap, err := addrPort(n.Addr, n.Port); err == nil {
		return []netip.AddrPort{ap}
	}
	return nil
}

func stmtChains(st Stmt) []string {
	switch st := st.(type) {
	case Verdict:
		if st.Kind == "jump" || st.Kind == "goto" {
			return []string{st.Target}
		}
	case VMap:
		if m, ok := st.Data.(AnonMap); ok {
			var out []string
			for _, e := range m {
				if v, ok := e.Value.(VerdictExpr); ok && v.Target != "" {
					out = append(out, v.Target)
				}
			}
			return out
		}
	}
	return nil
}
