package nftables

import (
	"reflect"
	"strings"

	"sigs.k8s.io/knftables"

	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// state is one family's table as it should be, or as the last successful
// sync left it: the objects of model.Want.Objects indexed by name, so two
// states can be compared chain by chain and element by element.
type state struct {
	family knftables.Family
	objs   []knftables.Object
	table  *knftables.Table

	chains     map[string]*chainState
	chainOrder []string
	sets       map[string]*setState
	setOrder   []string

	// materialized is the table as nft lists it once objs are added (see
	// model.RulesetOf), made when a full sync compares with the kernel.
	materialized *model.Table
}

type chainState struct {
	def   *knftables.Chain
	rules []*knftables.Rule
}

// setState is a set or a map with its elements by key.
type setState struct {
	def   knftables.Object // *knftables.Set or *knftables.Map
	elems map[string]*knftables.Element
	order []string
}

func newState(family knftables.Family, objs []knftables.Object) *state {
	s := &state{family: family, objs: objs, chains: map[string]*chainState{}, sets: map[string]*setState{}}
	for _, o := range objs {
		switch o := o.(type) {
		case *knftables.Table:
			s.table = o
		case *knftables.Chain:
			if s.chains[o.Name] == nil {
				s.chains[o.Name] = &chainState{def: o}
				s.chainOrder = append(s.chainOrder, o.Name)
			}
		case *knftables.Rule:
			if c := s.chains[o.Chain]; c != nil {
				c.rules = append(c.rules, o)
			}
		case *knftables.Set:
			s.addSet(o.Name, o)
		case *knftables.Map:
			s.addSet(o.Name, o)
		case *knftables.Element:
			set := s.sets[o.Set+o.Map]
			if set == nil {
				continue
			}
			// Two Services sharing an address add its element twice; the
			// set holds it once (the first, as model.RulesetOf keeps).
			k := elemKey(o.Key)
			if set.elems[k] == nil {
				set.elems[k] = o
				set.order = append(set.order, k)
			}
		}
	}
	return s
}

func (s *state) addSet(name string, def knftables.Object) {
	if s.sets[name] == nil {
		s.sets[name] = &setState{def: def, elems: map[string]*knftables.Element{}}
		s.setOrder = append(s.setOrder, name)
	}
}

// model returns the table as nft would list it.
func (s *state) model() (*model.Table, error) {
	if s.materialized != nil {
		return s.materialized, nil
	}
	rs, err := model.RulesetOf(s.family, s.objs)
	if err != nil {
		return nil, err
	}
	s.materialized = rs.Tables[0]
	return s.materialized, nil
}

func elemKey(key []string) string { return strings.Join(key, " . ") }

// sameRules compares rules as sent to nft: text and comment.
func sameRules(a, b []*knftables.Rule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Rule != b[i].Rule || deref(a[i].Comment) != deref(b[i].Comment) {
			return false
		}
	}
	return true
}

func sameElement(a, b *knftables.Element) bool {
	return elemKey(a.Value) == elemKey(b.Value) && deref(a.Comment) == deref(b.Comment)
}

// sameDef compares two chain, set or map definitions. A regular chain
// (all that a Service port has) holds no pointer, so comparing the structs
// settles it without reflection; reflect.DeepEqual over every chain of a
// large table was a visible part of a partial sync.
func sameDef(a, b knftables.Object) bool {
	if ca, ok := a.(*knftables.Chain); ok {
		if cb, ok := b.(*knftables.Chain); ok && *ca == *cb {
			return true
		}
	}
	return reflect.DeepEqual(a, b)
}

// emptyOf is an object naming what def defines, for flush and delete.
func emptyOf(def knftables.Object) knftables.Object {
	switch d := def.(type) {
	case *knftables.Set:
		return &knftables.Set{Name: d.Name}
	case *knftables.Map:
		return &knftables.Map{Name: d.Name}
	case *knftables.Chain:
		return &knftables.Chain{Name: d.Name}
	}
	return def
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
