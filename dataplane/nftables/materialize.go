package nftables

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/knftables"
)

// Objects are what kube-proxy's nftables proxier holds in its table for w,
// as knftables objects in an order a transaction can add them: the base
// layout, then per Service port its affinity sets, its chains, their
// rules, and its set and map elements. It is what --serve programs.
func (w *Want) Objects() []knftables.Object {
	out := w.Base.Objects()
	for _, svc := range w.Services {
		for _, p := range svc.Ports {
			for i := range p.Sets {
				out = append(out, &p.Sets[i])
			}
			for _, c := range p.Chains {
				out = append(out, &knftables.Chain{Name: c.Name})
			}
			for _, c := range p.Chains {
				for i := range c.Rules {
					out = append(out, &c.Rules[i])
				}
			}
			for i := range p.Elements {
				out = append(out, &p.Elements[i])
			}
		}
	}
	return out
}

// RulesetOf is the ruleset a node holds once objs are added to the
// kube-proxy table of family, in the form ParseJSON reads from
// `nft -j list ruleset`: rules parsed as nft lists them, chain priorities
// as numbers, element fields canonical. An element added twice (two
// Services sharing an address) is held once.
func RulesetOf(family knftables.Family, objs []knftables.Object) (*Ruleset, error) {
	t := newTable(family, KubeProxyTable)
	rs := &Ruleset{Tables: []*Table{t}}
	for _, o := range objs {
		if err := addObject(t, o); err != nil {
			return nil, fmt.Errorf("kube-proxy table of %s: %w", family, err)
		}
	}
	return rs, nil
}

func addObject(t *Table, o knftables.Object) error {
	switch o := o.(type) {
	case *knftables.Table:
		t.Comment = deref(o.Comment)
	case *knftables.Chain:
		return addChain(t, o)
	case *knftables.Rule:
		c := t.Chain(o.Chain)
		if c == nil {
			return fmt.Errorf("rule %q: no chain %s", o.Rule, o.Chain)
		}
		stmts, err := ParseRule(t.Family, o.Rule)
		if err != nil {
			return err
		}
		c.Rules = append(c.Rules, &Rule{Chain: c.Name, Position: len(c.Rules) + 1, Comment: deref(o.Comment), Stmts: stmts})
	case *knftables.Set:
		addSet(t, &Set{Name: o.Name, Key: splitType(o.Type), Flags: setFlags(o.Flags), Comment: deref(o.Comment)})
	case *knftables.Map:
		key, data, _ := strings.Cut(o.Type, " : ")
		addSet(t, &Set{Name: o.Name, IsMap: true, Key: splitType(key), Data: data, Flags: setFlags(o.Flags), Comment: deref(o.Comment)})
	case *knftables.Element:
		return addElement(t, o)
	default:
		return fmt.Errorf("%T is not modelled", o)
	}
	return nil
}

func addChain(t *Table, o *knftables.Chain) error {
	if t.Chain(o.Name) != nil {
		return nil // kube-proxy adds a chain again to make sure it exists
	}
	c := &Chain{Chain: *o}
	c.Family, c.Table, c.Handle = t.Family, t.Name, nil
	if o.Hook != nil {
		prio, err := priority(deref(o.Priority))
		if err != nil {
			return fmt.Errorf("chain %s: %w", o.Name, err)
		}
		// nft lists a base chain's priority as a number and its policy.
		p, pol := knftables.BaseChainPriority(strconv.Itoa(prio)), knftables.AcceptPolicy
		c.Prio, c.Priority, c.Policy = prio, &p, &pol
	}
	t.addChain(c)
	return nil
}

func addSet(t *Table, s *Set) {
	if t.Sets[s.Name] == nil {
		t.Sets[s.Name] = s
	}
}

func addElement(t *Table, o *knftables.Element) error {
	name := o.Set + o.Map
	s := t.Set(name)
	if s == nil {
		return fmt.Errorf("element %v: no set or map %s", o.Key, name)
	}
	el := knftables.Element{Set: o.Set, Map: o.Map, Key: canonicalKey(o.Key), Value: canonicalKey(o.Value), Comment: o.Comment}
	// Only an element with the same key is a duplicate: Lookup would also
	// scan a one-field set for an interval covering the key, which made
	// materializing thousands of Services quadratic.
	if _, dup := s.exact(el.Key); !dup {
		s.Elements = append(s.Elements, el)
		s.index[strings.Join(el.Key, " . ")] = len(s.Elements) - 1
	}
	return nil
}

// splitType splits a set's type at its concatenation dots, as nft's JSON
// lists it.
func splitType(t string) []string { return strings.Split(t, " . ") }

func setFlags(fs []knftables.SetFlag) []string {
	var out []string
	for _, f := range fs {
		out = append(out, string(f))
	}
	return out
}

// priorities are nft's named priorities of the ip and ip6 families.
var priorities = map[knftables.BaseChainPriority]int{
	knftables.RawPriority: -300, knftables.ManglePriority: -150, knftables.DNATPriority: -100,
	knftables.FilterPriority: 0, knftables.SecurityPriority: 50, knftables.SNATPriority: 100,
}

// priority reads "dstnat-10", "filter" or "-110" as a number.
func priority(p knftables.BaseChainPriority) (int, error) {
	s := string(p)
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	name, off := s, 0
	if i := strings.IndexAny(s, "+-"); i > 0 {
		n, err := strconv.Atoi(s[i:])
		if err != nil {
			return 0, fmt.Errorf("priority %q: %w", s, err)
		}
		name, off = s[:i], n
	}
	base, ok := priorities[knftables.BaseChainPriority(name)]
	if !ok {
		return 0, fmt.Errorf("unknown priority %q", s)
	}
	return base + off, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
