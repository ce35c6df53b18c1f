package iptables

import (
	"fmt"
	"strings"
)

// String renders the result for people: one line per outcome with its
// probability, chain path and flags, then the assumptions it rests on.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s from %s: %d outcome(s)\n", r.Packet, r.Entry, len(r.Outcomes))
	for _, o := range r.Outcomes {
		fmt.Fprintf(&b, "  %6s  %s", percent(o.Probability), o.ChainPath())
		if o.Masquerade {
			b.WriteString("  [masquerade]")
		}
		if o.Affinity != "" {
			b.WriteString("  [affinity: " + o.Affinity + "]")
		}
		b.WriteByte('\n')
		for _, a := range o.Assumptions {
			b.WriteString("          assuming " + a + "\n")
		}
	}
	return b.String()
}

// String renders a step as "nat KUBE-SERVICES line 12: matched (note)".
func (s Step) String() string {
	out := fmt.Sprintf("%s %s line %d: %s", s.Chain.Table, s.Chain.Name, s.Line(), s.Result)
	if s.Result == Policy {
		out = fmt.Sprintf("%s %s: end of chain, %s", s.Chain.Table, s.Chain.Name, s.Note)
		return out
	}
	if s.Note != "" {
		out += " (" + s.Note + ")"
	}
	return out
}
