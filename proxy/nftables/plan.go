package nftables

import (
	"sigs.k8s.io/knftables"
)

// diff queues in tx what turns the table from old into want, touching
// only the chains, sets and elements that changed: an endpoint change
// rewrites that Service port's chains and elements and nothing else.
// kube-proxy v1.37's partial sync writes about as little, but first lists
// every chain and set of the table (two `nft list` runs, which grow with
// the cluster); here a partial sync reads nothing back: the last
// successful sync's state says what the table holds.
//
// The order keeps every operation valid inside one transaction: sets and
// chains are created before rules and elements refer to them, and sets
// are deleted only after the rules and elements that refer to them are
// gone. Chains that go are only flushed, and returned: they are deleted in
// a transaction of their own afterwards (see Programmer.deleteChains). It
// reports false when a definition changed (a base chain's hook or
// priority, a set's type): nft cannot change those in place, and the
// caller rebuilds the table.
func diff(tx *knftables.Transaction, old, want *state) (gone []string, ok bool) {
	for _, name := range want.setOrder {
		if o := old.sets[name]; o == nil {
			tx.Add(want.sets[name].def)
		} else if !sameDef(o.def, want.sets[name].def) {
			return nil, false
		}
	}
	for _, name := range want.chainOrder {
		if o := old.chains[name]; o == nil {
			tx.Add(want.chains[name].def)
		} else if !sameDef(o.def, want.chains[name].def) {
			return nil, false
		}
	}
	for _, name := range want.chainOrder {
		o, c := old.chains[name], want.chains[name]
		if o != nil && sameRules(o.rules, c.rules) {
			continue
		}
		rewrite(tx, c, o != nil)
	}
	var adds []*knftables.Element
	for _, name := range want.setOrder {
		set, o := want.sets[name], old.sets[name]
		if o == nil {
			o = &setState{}
		}
		for _, k := range o.order {
			if e := set.elems[k]; e == nil || !sameElement(e, o.elems[k]) {
				tx.Delete(keyOnly(o.elems[k]))
			}
		}
		for _, k := range set.order {
			if e := o.elems[k]; e == nil || !sameElement(e, set.elems[k]) {
				adds = append(adds, set.elems[k])
			}
		}
	}
	for _, e := range adds {
		tx.Add(e)
	}
	for _, name := range old.chainOrder {
		if want.chains[name] == nil {
			gone = append(gone, name)
			tx.Flush(&knftables.Chain{Name: name})
		}
	}
	for _, name := range old.setOrder {
		if want.sets[name] == nil {
			tx.Delete(emptyOf(old.sets[name].def))
		}
	}
	return gone, true
}

// rewrite queues chain c's rules, flushing it first when it exists.
func rewrite(tx *knftables.Transaction, c *chainState, exists bool) {
	if exists {
		tx.Flush(emptyOf(c.def))
	}
	for _, r := range c.rules {
		tx.Add(r)
	}
}

// keyOnly is e without its value, as nft deletes an element by key.
func keyOnly(e *knftables.Element) *knftables.Element {
	return &knftables.Element{Set: e.Set, Map: e.Map, Key: e.Key}
}

// addAll queues every object of want: the table's first sync, or a
// rebuild after deleting it.
func addAll(tx *knftables.Transaction, want *state) {
	for _, o := range want.objs {
		tx.Add(o)
	}
}
