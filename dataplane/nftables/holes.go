package nftables

import (
	"strconv"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

// numgenHole is a `numgen random mod N` map or vmap in a chain that lacks
// elements for some of the N values. A packet drawing such a value fails
// the lookup, so the rule does not apply and the packet is not translated.
type numgenHole struct {
	Mod     int
	Missing []string // numgen values (offset included) without an element
}

// Lost is the share of new connections that draw a missing value.
func (h numgenHole) Lost() float64 { return float64(len(h.Missing)) / float64(h.Mod) }

// numgenHoles reads chain's rules statically and returns each numgen map
// with missing elements.
func numgenHoles(t *Table, chain string) []numgenHole {
	c := t.Chain(chain)
	if c == nil {
		return nil
	}
	var out []numgenHole
	for _, r := range c.Rules {
		for _, st := range r.Stmts {
			var key, data Expr
			switch st := st.(type) {
			case VMap:
				key, data = st.Key, st.Data
			case NAT:
				if ml, ok := st.Addr.(MapLookup); ok {
					key, data = ml.Key, ml.Data
				}
			}
			ng, ok := key.(Numgen)
			if !ok {
				continue
			}
			h := numgenHole{Mod: ng.Mod}
			for i := range ng.Mod {
				if v := strconv.Itoa(i + ng.Offset); !hasElement(t, data, v) {
					h.Missing = append(h.Missing, v)
				}
			}
			if len(h.Missing) > 0 {
				out = append(out, h)
			}
		}
	}
	return out
}

func hasElement(t *Table, data Expr, key string) bool {
	switch d := data.(type) {
	case SetRef:
		if s := t.Set(string(d)); s != nil {
			_, ok := s.Lookup([]string{key})
			return ok
		}
	case AnonMap:
		for _, el := range d {
			if sameValue(el.Key.String(), key) {
				return true
			}
		}
	}
	return false
}

// holeDrift reports the numgen holes of chain with the traffic they lose.
func holeDrift(p ExpectedPort, chain string, t *Table) []dataplane.Diff {
	var out []dataplane.Diff
	for _, h := range numgenHoles(t, chain) {
		out = append(out, dataplane.Diff{Kind: NFTEndpointMissing, Where: dataplane.Locator{Chain: chain},
			Service: p.Name.Display(), Missing: h.Missing, Of: h.Mod, Lost: h.Lost()})
	}
	return out
}
