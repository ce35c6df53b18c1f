package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// nonTerminal lists targets that do something and let the walk go on.
var nonTerminal = map[string]bool{
	"LOG": true, "NFLOG": true, "ULOG": true, "TRACE": true, "AUDIT": true,
	"CONNMARK": true, "CT": true, "NOTRACK": true, "TCPMSS": true, "CHECKSUM": true,
	"CLASSIFY": true, "DSCP": true, "TOS": true, "TTL": true, "HL": true, "SET": true,
}

// act applies the target of rule i of chain c, which matched for b, and
// continues the walk.
func (w *walker) act(c *Chain, i int, r *Rule, b *branch, depth int) ([]*branch, error) {
	t := r.Target
	switch t.Name {
	case "":
		return w.exec(c, i+1, b, depth)
	case "MARK":
		b.pkt.Mark = t.Mark.Apply(b.pkt.Mark)
		return w.exec(c, i+1, b, depth)
	case "RETURN":
		return []*branch{b}, nil
	case "ACCEPT":
		return w.stop(b), nil
	case "DROP", "REJECT":
		b.verdict, b.rejectWith, b.decisive = Verdict(t.Name), t.RejectWith, b.nsteps()-1
		return w.stop(b), nil
	case "DNAT":
		w.dnat(b, t.ToDestination)
		return w.stop(b), nil
	case "MASQUERADE", "SNAT":
		b.masquerade = true
		return w.stop(b), nil
	}
	if nonTerminal[t.Name] {
		return w.exec(c, i+1, b, depth)
	}
	sub := w.d.Chain(c.Table, t.Name)
	if sub == nil {
		b.assumptions = append(b.assumptions, fmt.Sprintf("target %s at line %d is not understood; walked past it", t.Name, r.Line))
		return w.exec(c, i+1, b, depth)
	}
	return w.call(c, i, sub, t.Goto, b, depth)
}

// call enters sub; a jump resumes c after the rule when sub returns, a goto
// returns straight to c's caller.
func (w *walker) call(c *Chain, i int, sub *Chain, isGoto bool, b *branch, depth int) ([]*branch, error) {
	b.entries++
	if b.entries > maxEntries {
		return nil, fmt.Errorf("%w: more than %d chain entries reaching %s %s; check for a goto cycle or chains called over and over", ErrLoop, maxEntries, sub.Table, sub.Name)
	}
	out, err := w.exec(sub, 0, b, depth+1)
	if err != nil || isGoto {
		return out, err
	}
	var res []*branch
	for _, x := range out {
		if x.stopped {
			res = append(res, x)
			continue
		}
		more, err := w.exec(c, i+1, x, depth)
		if err != nil {
			return nil, err
		}
		res = append(res, more...)
	}
	return res, nil
}

func (w *walker) stop(b *branch) []*branch {
	b.stopped = true
	return []*branch{b}
}

// dnat rewrites the destination. A target without a port keeps the
// packet's port; ranges are kept as text only.
func (w *walker) dnat(b *branch, to string) {
	b.dnat, b.decisive = to, b.nsteps()-1
	ap, err := parseHostPort(to, b.pkt.DstPort)
	if err != nil {
		b.assumptions = append(b.assumptions, fmt.Sprintf("DNAT target %q is not a single ip:port; destination left unchanged", to))
		return
	}
	b.dest = ap
	b.pkt.Dst, b.pkt.DstPort = ap.Addr(), ap.Port()
}

// parseHostPort reads "ip", "ip:port", "[v6]" or "[v6]:port".
func parseHostPort(s string, defPort uint16) (netip.AddrPort, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad DNAT target %q", s)
	}
	return netip.AddrPortFrom(a, defPort), nil
}

// ChainPath renders the chains that were active when the outcome was
// decided, in the table traversal that decided it, e.g.
// "KUBE-SERVICES → KUBE-SVC-X → KUBE-SEP-Y (33.3%) → DNAT 10.244.1.7:9376".
// Chains that returned before the decision (KUBE-MARK-MASQ, ...) are left
// out. A chain is annotated with the branch probability when a statistic
// fork lowered it since the chain before.
func (o Outcome) ChainPath() string {
	type entered struct {
		name string
		prob float64
		tag  string
	}
	var stack []entered
	if steps := o.Steps(); o.Decisive >= 0 && o.Decisive < len(steps) {
		d := steps[o.Decisive]
		for _, s := range steps[:o.Decisive+1] {
			if s.Chain.Table != d.Chain.Table || s.Hook != d.Hook || s.Rule == nil {
				continue
			}
			for len(stack) > 0 && stack[len(stack)-1].name != s.Chain.Name {
				stack = stack[:len(stack)-1]
			}
			if (s.Result == Matched || s.Result == AssumedMatched) && isUserChain(s.Rule.Target.Name) {
				tag := ""
				if s.Result == AssumedMatched && o.Affinity == "sticky" {
					tag = " (sticky)"
				}
				stack = append(stack, entered{s.Rule.Target.Name, s.Probability, tag})
			}
		}
	}
	parts := make([]string, 0, len(stack)+1)
	last := 1.0
	for _, e := range stack {
		p := e.name + e.tag
		if e.prob < last-1e-9 {
			p += " (" + percent(e.prob) + ")"
			last = e.prob
		}
		parts = append(parts, p)
	}
	return strings.Join(append(parts, o.verdictText()), " → ")
}

func isUserChain(target string) bool {
	switch target {
	case "", "ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "MARK":
		return false
	}
	return !nonTerminal[target]
}

func (o Outcome) verdictText() string {
	switch o.Verdict {
	case VerdictDNAT:
		if o.Destination.IsValid() {
			return "DNAT " + o.Destination.String()
		}
		return "DNAT " + o.DNATTarget
	case VerdictReject:
		if o.RejectWith != "" {
			return "REJECT (" + o.RejectWith + ")"
		}
	}
	return string(o.Verdict)
}

func percent(p float64) string {
	return strconv.FormatFloat(p*100, 'f', 1, 64) + "%"
}
