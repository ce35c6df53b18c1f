package iptables

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

type tri int

const (
	no tri = iota
	yes
	unknown
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

// ruleMatch is how a rule's conditions evaluate for one branch: a definite
// no, or a yes weighted by prob and resting on assumptions.
type ruleMatch struct {
	no   bool
	note string
	prob float64
	// assume holds what the matched side takes for granted; denied what the
	// other side does.
	assume, denied []string
	sticky, fresh  bool
}

// evalRule evaluates every condition of r against b's packet. Definite
// mismatches win; otherwise statistic probabilities multiply and the
// conditions it cannot evaluate become assumptions.
func (w *walker) evalRule(r *Rule, b *branch) ruleMatch {
	m := ruleMatch{prob: 1}
	p := &b.pkt
	if !generic(r, p, &m) {
		return ruleMatch{no: true}
	}
	for _, x := range r.Matches {
		if !w.evalMatch(x, p, &m) {
			return ruleMatch{no: true}
		}
	}
	if len(m.assume) > 0 && m.note == "" {
		m.note = strings.Join(m.assume, "; ")
	}
	return m
}

// generic checks -s, -d, -p, -i and -o; false is a definite mismatch.
func generic(r *Rule, p *Packet, m *ruleMatch) bool {
	if r.Source.IsSet() && r.Source.Prefix.Contains(p.Src) == r.Source.Negated {
		return false
	}
	if r.Destination.IsSet() && r.Destination.Prefix.Contains(p.Dst) == r.Destination.Negated {
		return false
	}
	if r.Protocol.IsSet() && r.Protocol.Value != "all" && (r.Protocol.Value == p.Proto) == r.Protocol.Negated {
		return false
	}
	for _, c := range []struct {
		cond Cond
		name string
		have string
	}{{r.InInterface, "-i", p.InInterface}, {r.OutInterface, "-o", p.OutInterface}} {
		if !c.cond.IsSet() {
			continue
		}
		if c.have == "" {
			m.unknownf("%s %s (interface of the packet not given)", c.name, c.cond.Value)
			continue
		}
		if ifaceMatch(c.cond.Value, c.have) == c.cond.Negated {
			return false
		}
	}
	return true
}

// ifaceMatch implements iptables interface names, where a trailing "+" is
// a prefix wildcard.
func ifaceMatch(pattern, name string) bool {
	if p, ok := strings.CutSuffix(pattern, "+"); ok {
		return strings.HasPrefix(name, p)
	}
	return pattern == name
}

func (m *ruleMatch) unknownf(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	m.assume = append(m.assume, s+" matches")
	m.denied = append(m.denied, s+" does not match")
}

// evalMatch evaluates one module; false is a definite mismatch.
func (w *walker) evalMatch(x Match, p *Packet, m *ruleMatch) bool {
	switch x := x.(type) {
	case *CommentMatch:
		return true
	case *PortMatch:
		return evalPorts(x, p, m)
	case *AddrTypeMatch:
		return w.evalAddrType(x, p, m)
	case *MarkMatch:
		return (p.Mark&x.Mask == x.Value) != x.Negated
	case *StatisticMatch:
		return evalStatistic(x, m)
	case *RecentMatch:
		return evalRecent(x, m)
	case *SetMatch:
		return w.evalSet(x, p, m)
	case *ConntrackMatch:
		return slices.Contains(x.States, strings.ToUpper(p.CTState)) != x.Negated
	case *OtherMatch:
		what := "unknown"
		if x.Known {
			what = "unevaluated"
		}
		m.unknownf("%s (%s module)", x.String(), what)
	}
	return true
}

func evalPorts(x *PortMatch, p *Packet, m *ruleMatch) bool {
	if x.Proto != p.Proto {
		return false
	}
	if x.DPort.Set && !x.DPort.Contains(p.DstPort) {
		return false
	}
	if x.SPort.Set {
		if p.SrcPort == 0 {
			m.unknownf("--sport %s (source port not given)", x.SPort)
			return true
		}
		return x.SPort.Contains(p.SrcPort)
	}
	return true
}

func evalStatistic(x *StatisticMatch, m *ruleMatch) bool {
	if x.Mode != "random" {
		m.unknownf("%q", x.String())
		return true
	}
	pr := x.Probability
	if x.Negated {
		pr = 1 - pr
	}
	if pr <= 0 {
		return false
	}
	m.prob *= pr
	return true
}

// evalRecent: --set records the client and always matches. An
// --rcheck/--update hit means the client already has session affinity; the
// walk follows both the sticky and the fresh path.
func evalRecent(x *RecentMatch, m *ruleMatch) bool {
	if x.Command == "set" {
		return !x.Negated
	}
	if x.Negated || x.Command != "rcheck" && x.Command != "update" {
		m.unknownf("%q", x.String())
		return true
	}
	m.assume = append(m.assume, fmt.Sprintf("the client has ClientIP affinity in recent list %s", x.Name))
	m.note = fmt.Sprintf("affinity: recent list %s (sticky if the client was seen within %ds)", x.Name, x.Seconds)
	m.sticky, m.fresh = true, true
	return true
}

func (w *walker) evalSet(x *SetMatch, p *Packet, m *ruleMatch) bool {
	if w.node.IPSetMatch != nil {
		if hit, known := w.node.IPSetMatch(x.Name, x.Flags, *p); known {
			return hit != x.Negated
		}
	}
	m.unknownf("-m set --match-set %s %s (ipset contents unknown)", x.Name, x.Flags)
	return true
}

func (w *walker) evalAddrType(x *AddrTypeMatch, p *Packet, m *ruleMatch) bool {
	if x.LimitIfaceIn || x.LimitIfaceOut {
		m.unknownf("%q (per-interface address types)", x.String())
		return true
	}
	for _, c := range []struct {
		cond Cond
		addr netip.Addr
	}{{x.SrcType, p.Src}, {x.DstType, p.Dst}} {
		if !c.cond.IsSet() {
			continue
		}
		switch w.addrType(c.cond.Value, c.addr) {
		case unknown:
			m.unknownf("addrtype %s for %s (node addresses not given)", c.cond.Value, c.addr)
		case yes:
			if c.cond.Negated {
				return false
			}
		case no:
			if !c.cond.Negated {
				return false
			}
		}
	}
	return true
}

// addrType reports whether addr has one of the comma-separated types.
func (w *walker) addrType(types string, addr netip.Addr) tri {
	res := no
	for _, t := range strings.Split(types, ",") {
		var r tri
		switch t {
		case "LOCAL":
			r = w.isLocal(addr)
		case "MULTICAST":
			r = triOf(addr.IsMulticast())
		case "UNICAST":
			if addr.IsMulticast() {
				r = no
			} else if r = w.isLocal(addr); r != unknown {
				r = triOf(r == no)
			}
		case "BROADCAST":
			r = unknown
			if addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
				r = yes
			}
		default:
			r = unknown
		}
		if r == yes {
			return yes
		}
		if r == unknown {
			res = unknown
		}
	}
	return res
}

func (w *walker) isLocal(a netip.Addr) tri {
	if a.IsLoopback() || slices.Contains(w.node.LocalAddrs, a) {
		return yes
	}
	if w.node.LocalAddrs == nil {
		return unknown
	}
	return no
}
