package nftables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// maxDepth bounds jump/goto nesting so that a looping ruleset ends the walk
// with an error outcome instead of recursing forever.
const maxDepth = 64

// result is a branch leaving a chain or rule. verdict is "" (fell off the
// end of the chain), "next" (rule did not decide; go on), "return",
// "accept", "drop", "reject" or "error".
type result struct {
	st      *state
	verdict string
	detail  string
}

func (w *walker) chain(s *state, t *Table, c *Chain, depth int) []result {
	if depth > maxDepth {
		return []result{{st: s, verdict: "error", detail: "jump depth over 64 at chain " + c.Name}}
	}
	return w.rules(s, t, c, 0, depth)
}

func (w *walker) rules(s *state, t *Table, c *Chain, from, depth int) []result {
	for i := from; i < len(c.Rules); i++ {
		ex := &ruleExec{w: w, t: t, c: c, r: c.Rules[i], depth: depth}
		outs := ex.stmts(s, 0, false)
		if len(outs) == 1 && outs[0].verdict == "next" {
			s = outs[0].st
			continue
		}
		var res []result
		for _, o := range outs {
			if o.verdict == "next" {
				res = append(res, w.rules(o.st, t, c, i+1, depth)...)
			} else {
				res = append(res, o)
			}
		}
		return res
	}
	return []result{{st: s}}
}

type ruleExec struct {
	w     *walker
	t     *Table
	c     *Chain
	r     *Rule
	depth int
}

func (e *ruleExec) step(s *state, m mark) {
	s.steps = append(s.steps, Step{
		Table: string(e.t.Family) + " " + e.t.Name, Chain: e.c.Name,
		Handle: e.r.Handle, Position: e.r.Position, Line: e.r.Line,
		Rule: e.r.Text(), Note: m.note, Numgen: m.numgen, Skipped: m.skipped,
	})
}

// stmts runs statements from i on. The rule is recorded as a step once all
// its leading matches passed (recorded says whether that happened already).
func (e *ruleExec) stmts(s *state, i int, recorded bool) []result {
	if i == len(e.r.Stmts) {
		return []result{{st: s, verdict: "next"}}
	}
	st := e.r.Stmts[i]
	if m, ok := st.(Match); ok {
		if !e.w.match(s, m) {
			return []result{{st: s, verdict: "next"}}
		}
		return e.stmts(s, i+1, recorded)
	}
	if !recorded {
		if _, branches := st.(VMap); !branches && !isNumgenNAT(st) {
			e.step(s, mark{})
			recorded = true
		}
	}
	switch st := st.(type) {
	case Verdict:
		return e.verdict(s, VerdictExpr(st), i)
	case VMap:
		return e.vmap(s, st, i, recorded)
	case NAT:
		return e.nat(s, st, recorded)
	case Reject:
		return []result{{st: s, verdict: "reject"}}
	case Mangle:
		e.w.mangle(s, st)
	case Unknown:
		if len(s.steps) > 0 {
			s.steps[len(s.steps)-1].Note = "statement not modelled; rule treated as not matching"
		}
		return []result{{st: s, verdict: "next"}}
	}
	return e.stmts(s, i+1, true)
}

// verdict applies accept/drop/return/jump/goto; i is the statement index so
// that statements after a returning jump still run.
func (e *ruleExec) verdict(s *state, v VerdictExpr, i int) []result {
	switch v.Kind {
	case "accept", "drop", "return":
		return []result{{st: s, verdict: v.Kind}}
	case "continue":
		return e.stmts(s, i+1, true)
	case "jump", "goto":
		target := e.t.Chain(v.Target)
		if target == nil {
			return []result{{st: s, verdict: "error", detail: fmt.Sprintf("chain %q does not exist", v.Target)}}
		}
		var res []result
		for _, r := range e.w.chain(s, e.t, target, e.depth+1) {
			switch {
			case r.verdict != "" && r.verdict != "return":
				res = append(res, r)
			case v.Kind == "goto":
				res = append(res, result{st: r.st, verdict: "return"})
			default:
				res = append(res, e.stmts(r.st, i+1, true)...)
			}
		}
		return res
	}
	return []result{{st: s, verdict: "error", detail: "unknown verdict " + v.Kind}}
}

func (e *ruleExec) vmap(s *state, v VMap, i int, recorded bool) []result {
	var res []result
	for _, b := range e.w.lookup(s, v.Key, v.Data) {
		bs := s.clone(b.factor)
		if !recorded {
			e.step(bs, b.mark)
		}
		if b.value == nil {
			res = append(res, result{st: bs, verdict: "next"})
			continue
		}
		ve, ok := b.value.(VerdictExpr)
		if !ok {
			ve = parseVerdict(b.value.String())
		}
		res = append(res, e.verdict(bs, ve, i)...)
	}
	return res
}

func (e *ruleExec) nat(s *state, n NAT, recorded bool) []result {
	if n.Kind != "dnat" {
		// snat/masquerade/redirect end the nat chain; the first two hide the
		// client's address from the endpoint.
		if n.Kind == "masquerade" || n.Kind == "snat" {
			s.masq = true
		}
		return []result{{st: s, verdict: "accept"}}
	}
	type target struct {
		factor float64
		ap     netip.AddrPort
		mark
		err  string
		miss bool
	}
	var targets []target
	if ml, ok := n.Addr.(MapLookup); ok {
		for _, b := range e.w.lookup(s, ml.Key, ml.Data) {
			if b.value == nil {
				targets = append(targets, target{factor: b.factor, mark: b.mark, miss: true})
				continue
			}
			ap, err := addrPort(b.value, n.Port)
			targets = append(targets, target{factor: b.factor, ap: ap, mark: b.mark, err: errText(err)})
		}
	} else {
		ap, err := addrPort(n.Addr, n.Port)
		targets = append(targets, target{factor: 1, ap: ap, err: errText(err)})
	}
	var res []result
	for _, tg := range targets {
		bs := s.clone(tg.factor)
		if !recorded {
			e.step(bs, tg.mark)
		}
		if tg.miss {
			// A failed map lookup ends the rule before its dnat runs, as in
			// netfilter: evaluation goes on with the next rule.
			res = append(res, result{st: bs, verdict: "next"})
			continue
		}
		if tg.err != "" {
			res = append(res, result{st: bs, verdict: "error", detail: tg.err})
			continue
		}
		bs.pkt.Dst, bs.pkt.DstPort, bs.dnat = tg.ap.Addr(), tg.ap.Port(), true
		res = append(res, result{st: bs, verdict: "accept"})
	}
	return res
}

func isNumgenNAT(st Stmt) bool {
	n, ok := st.(NAT)
	if !ok {
		return false
	}
	_, ok = n.Addr.(MapLookup)
	return ok
}

// addrPort reads a DNAT target: addr may be "ip . port" (Concat) or an
// address with a separate port expression.
// DNATTarget is the fixed address and port the rule DNATs to, if it does.
func (r *Rule) DNATTarget() (netip.AddrPort, bool) {
	for _, st := range r.Stmts {
		if n, ok := st.(NAT); ok && n.Kind == "dnat" {
			if _, isMap := n.Addr.(MapLookup); !isMap {
				ap, err := addrPort(n.Addr, n.Port)
				return ap, err == nil
			}
		}
	}
	return netip.AddrPort{}, false
}

func addrPort(addr, port Expr) (netip.AddrPort, error) {
	if addr == nil {
		return netip.AddrPort{}, fmt.Errorf("dnat without an address")
	}
	var a, p string
	if c, ok := addr.(Concat); ok && len(c) == 2 {
		a, p = c[0].String(), c[1].String()
	} else {
		a = addr.String()
		if port != nil {
			p = port.String()
		}
	}
	ip, err := netip.ParseAddr(strings.Trim(a, "[]"))
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("dnat address %q: %w", a, err)
	}
	if p == "" {
		return netip.AddrPort{}, fmt.Errorf("dnat to %s keeps the destination port; not modelled", a)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("dnat port %q: %w", p, err)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(n)), nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// parseVerdict reads map data such as "goto chain" or "drop".
func parseVerdict(s string) VerdictExpr {
	kind, target, _ := strings.Cut(strings.TrimSpace(s), " ")
	return VerdictExpr{Kind: kind, Target: strings.TrimSpace(target)}
}
