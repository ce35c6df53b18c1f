package nftables

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// value is the right side of a match or the data of a map: a set
// reference, an inline set or map, a concatenation or a literal.
func (p *ruleParser) value() (Expr, error) {
	switch t := p.peek(); {
	case strings.HasPrefix(t, "@"):
		p.next()
		return SetRef(t[1:]), nil
	case t == "{":
		return p.inline()
	}
	return p.concat()
}

// inline reads "{ a, b }" or "{ k : v , ... }". nft lists a one-element
// inline set as its element.
func (p *ruleParser) inline() (Expr, error) {
	p.next()
	var set AnonSet
	var m AnonMap
	for p.peek() != "}" {
		if p.done() {
			return nil, fmt.Errorf("inline set is not closed")
		}
		k, err := p.concat()
		if err != nil {
			return nil, err
		}
		if p.peek() == ":" {
			p.next()
			v, err := p.mapValue()
			if err != nil {
				return nil, err
			}
			m = append(m, MapElem{Key: k, Value: v})
		} else {
			set = append(set, k)
		}
		if p.peek() == "," {
			p.next()
		}
	}
	p.next()
	switch {
	case m != nil:
		return m, nil
	case len(set) == 1:
		return set[0], nil
	}
	sortAddrs(set)
	return set, nil
}

// sortAddrs orders an inline set of addresses and prefixes as nft lists
// it: by address, whatever order the rule wrote them in.
func sortAddrs(set AnonSet) {
	keys := make([]netip.Prefix, len(set))
	for i, e := range set {
		switch e := e.(type) {
		case Prefix:
			a, err := netip.ParseAddr(e.Addr)
			if err != nil {
				return
			}
			keys[i] = netip.PrefixFrom(a, e.Len)
		case Value:
			a, err := netip.ParseAddr(string(e))
			if err != nil {
				return
			}
			keys[i] = netip.PrefixFrom(a, a.BitLen())
		default:
			return
		}
	}
	idx := make([]int, len(set))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ka, kb := keys[idx[a]], keys[idx[b]]
		if c := ka.Addr().Compare(kb.Addr()); c != 0 {
			return c < 0
		}
		return ka.Bits() < kb.Bits()
	})
	sorted := make(AnonSet, len(set))
	for i, j := range idx {
		sorted[i] = set[j]
	}
	copy(set, sorted)
}

func (p *ruleParser) mapValue() (Expr, error) {
	switch t := p.peek(); t {
	case "goto", "jump":
		p.next()
		return VerdictExpr{Kind: t, Target: p.next()}, nil
	case "drop", "accept", "return":
		p.next()
		return VerdictExpr{Kind: t}, nil
	}
	return p.concat()
}

// literal is a constant as nft lists it: a prefix, or a number in
// decimal.
func (p *ruleParser) literal(t string) Expr {
	if addr, bits, ok := strings.Cut(t, "/"); ok {
		if n, err := strconv.Atoi(bits); err == nil {
			return Prefix{Addr: Canonical(addr), Len: n}
		}
	}
	if strings.HasPrefix(t, "0x") {
		if n, err := strconv.ParseUint(t[2:], 16, 64); err == nil {
			return Value(strconv.FormatUint(n, 10))
		}
	}
	return Value(t)
}
