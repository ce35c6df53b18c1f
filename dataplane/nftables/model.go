package nftables

import (
	"net/netip"
	"strings"

	"sigs.k8s.io/knftables"
)

// Ruleset is everything `nft list ruleset` printed: its tables in order.
type Ruleset struct {
	Tables []*Table
}

// Table returns the table with this family and name, or nil when absent.
func (r *Ruleset) Table(family knftables.Family, name string) *Table {
	for _, t := range r.Tables {
		if t.Family == family && t.Name == name {
			return t
		}
	}
	return nil
}

// KubeProxy returns kube-proxy's table for the family ("ip" or "ip6"), or nil.
func (r *Ruleset) KubeProxy(family knftables.Family) *Table {
	return r.Table(family, KubeProxyTable)
}

// KubeProxyTable is the name kube-proxy gives its table in both families.
const KubeProxyTable = "kube-proxy"

// Table is one nftables table with its chains and sets (maps are sets with
// IsMap set). Chains keeps listing order; ChainByName indexes it.
type Table struct {
	Family  knftables.Family
	Name    string
	Handle  int
	Comment string
	Chains  []*Chain
	Sets    map[string]*Set

	chainByName map[string]*Chain
}

func newTable(family knftables.Family, name string) *Table {
	return &Table{Family: family, Name: name, Sets: map[string]*Set{}, chainByName: map[string]*Chain{}}
}

// Chain returns the named chain or nil.
func (t *Table) Chain(name string) *Chain { return t.chainByName[name] }

// Set returns the named set or map, or nil.
func (t *Table) Set(name string) *Set { return t.Sets[name] }

func (t *Table) addChain(c *Chain) {
	if old := t.chainByName[c.Name]; old != nil {
		// `nft list` never repeats a chain, but a hand-written file may
		// declare it twice; keep one chain and its rules.
		old.Rules = append(old.Rules, c.Rules...)
		return
	}
	t.Chains = append(t.Chains, c)
	t.chainByName[c.Name] = c
}

// Chain is a chain with its rules in evaluation order. Type, Hook, Priority
// and Policy are set only for base chains; Prio is the numeric priority.
type Chain struct {
	knftables.Chain
	Prio  int
	Line  int // line in a text listing, 0 for JSON
	Rules []*Rule
}

// IsBase reports whether the chain is attached to a netfilter hook.
func (c *Chain) IsBase() bool { return c.Hook != nil }

// Rule is one rule. Handle is nft's handle (0 when the listing had none),
// Position its 1-based index in the chain, Line its line in a text listing.
type Rule struct {
	Chain    string
	Handle   int
	Position int
	Line     int
	Comment  string
	Stmts    []Stmt
}

// Text renders the rule as `nft list` prints it, comment included.
func (r *Rule) Text() string {
	s := stmtsText(r.Stmts)
	if r.Comment != "" {
		s += ` comment "` + r.Comment + `"`
	}
	return s
}

// Set is a named set or map. Key is the key type split at " . "; Data is the
// map's data type ("verdict" for a vmap), empty for a set.
type Set struct {
	Name     string
	IsMap    bool
	Key      []string
	Data     string
	Flags    []string
	Comment  string
	Handle   int
	Line     int
	Elements []knftables.Element

	index map[string]int
}

// Lookup returns the element whose key equals key (fields already in
// canonical form, see Canonical), matching prefixes and ranges of a
// single-field interval set too.
func (s *Set) Lookup(key []string) (knftables.Element, bool) {
	if i, ok := s.exact(key); ok {
		return s.Elements[i], true
	}
	if len(key) != 1 {
		return knftables.Element{}, false
	}
	for _, e := range s.Elements {
		if len(e.Key) == 1 && keyCovers(e.Key[0], key[0]) {
			return e, true
		}
	}
	return knftables.Element{}, false
}

// exact returns the index of the element whose key is key as written.
func (s *Set) exact(key []string) (int, bool) {
	if s.index == nil {
		s.index = make(map[string]int, len(s.Elements))
		for i, e := range s.Elements {
			s.index[strings.Join(e.Key, " . ")] = i
		}
	}
	i, ok := s.index[strings.Join(key, " . ")]
	return i, ok
}

// keyCovers reports whether an interval element ("10.0.0.0/8", "a-b")
// contains the address v.
func keyCovers(elem, v string) bool {
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return false
	}
	if p, err := netip.ParsePrefix(elem); err == nil {
		return p.Contains(addr)
	}
	if lo, hi, ok := strings.Cut(elem, "-"); ok {
		l, err1 := netip.ParseAddr(lo)
		h, err2 := netip.ParseAddr(hi)
		return err1 == nil && err2 == nil && l.Compare(addr) <= 0 && addr.Compare(h) <= 0
	}
	return false
}

// Canonical normalises one key or value field so that JSON and text
// listings compare equal: addresses in netip form, everything else trimmed.
func Canonical(v string) string {
	v = strings.TrimSpace(v)
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().String()
	}
	if p, err := netip.ParsePrefix(v); err == nil {
		return p.String()
	}
	return v
}
