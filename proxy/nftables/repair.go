package nftables

import (
	"maps"
	"slices"
	"strings"

	"sigs.k8s.io/knftables"

	model "github.com/svctrace/kubectl-svctrace/dataplane/nftables"
)

// Kinds of repairs a full sync counts, by what it found wrong in the
// kernel's table.
const (
	RepairTableMissing   = "table_missing"   // the whole table was gone
	RepairChainMissing   = "chain_missing"   // a chain was not in the table
	RepairRulesDiffer    = "rules_differ"    // a chain held other rules
	RepairChainStale     = "chain_stale"     // a chain that should not exist
	RepairSetMissing     = "set_missing"     // a set or map was not in the table
	RepairSetStale       = "set_stale"       // a set or map that should not exist
	RepairElementMissing = "element_missing" // an element was not in its set or map
	RepairElementDiffers = "element_differs" // an element held another value or comment
	RepairElementStale   = "element_stale"   // an element that should not exist
	RepairDefinition     = "definition"      // a base chain or set defined otherwise: the table was rebuilt
)

// repair queues in tx what turns have, the table as nft lists it, into
// want, counting what differs by kind. Rules are compared as nft lists
// them (want's rules materialized, see model.RulesetOf), elements by
// their canonical key and value. It reports false when a definition
// differs, which only a rebuild of the table can change. The order is
// diff's, and so is what it does with chains that should not exist: it
// flushes them and returns them to be deleted. pending are chains an
// earlier sync flushed and could not delete yet: not counted again.
func repair(tx *knftables.Transaction, have *model.Table, want *state, pending map[string]bool, repairs map[string]int) (gone []string, ok bool, err error) {
	wm, err := want.model()
	if err != nil {
		return nil, false, err
	}
	for _, name := range want.setOrder {
		hs := have.Set(name)
		if hs == nil {
			repairs[RepairSetMissing]++
			tx.Add(want.sets[name].def)
		} else if !sameSetDef(hs, wm.Set(name)) {
			repairs[RepairDefinition]++
			return nil, false, nil
		}
	}
	for _, name := range want.chainOrder {
		hc := have.Chain(name)
		if hc == nil {
			repairs[RepairChainMissing]++
			tx.Add(want.chains[name].def)
		} else if !sameChainDef(hc, wm.Chain(name)) {
			repairs[RepairDefinition]++
			return nil, false, nil
		}
	}
	for _, name := range want.chainOrder {
		hc := have.Chain(name)
		if hc != nil && slices.Equal(ruleTexts(hc), ruleTexts(wm.Chain(name))) {
			continue
		}
		if hc != nil {
			repairs[RepairRulesDiffer]++
		}
		rewrite(tx, want.chains[name], hc != nil)
	}
	adds := repairElements(tx, have, want, repairs)
	for _, e := range adds {
		tx.Add(e)
	}
	for _, hc := range have.Chains {
		if want.chains[hc.Name] != nil {
			continue
		}
		if !pending[hc.Name] || len(hc.Rules) > 0 {
			repairs[RepairChainStale]++
		}
		gone = append(gone, hc.Name)
		tx.Flush(&knftables.Chain{Name: hc.Name})
	}
	for _, name := range slices.Sorted(maps.Keys(have.Sets)) {
		if want.sets[name] == nil {
			repairs[RepairSetStale]++
			if have.Sets[name].IsMap {
				tx.Delete(&knftables.Map{Name: name})
			} else {
				tx.Delete(&knftables.Set{Name: name})
			}
		}
	}
	return gone, true, nil
}

// repairElements queues the deletion of elements have holds that want
// does not (or holds otherwise) and returns the elements to add.
func repairElements(tx *knftables.Transaction, have *model.Table, want *state, repairs map[string]int) []*knftables.Element {
	var adds []*knftables.Element
	for _, name := range want.setOrder {
		set := want.sets[name]
		hs := have.Set(name)
		if hs == nil {
			for _, k := range set.order {
				adds = append(adds, set.elems[k])
			}
			continue
		}
		wantBy := map[string]*knftables.Element{}
		for _, k := range set.order {
			wantBy[canonKey(set.elems[k].Key)] = set.elems[k]
		}
		haveBy := map[string]knftables.Element{}
		for _, he := range hs.Elements {
			k := canonKey(he.Key)
			haveBy[k] = he
			we := wantBy[k]
			switch {
			case we == nil:
				repairs[RepairElementStale]++
				tx.Delete(&knftables.Element{Set: setName(hs, false), Map: setName(hs, true), Key: he.Key})
			case canonKey(we.Value) != canonKey(he.Value) || deref(we.Comment) != deref(he.Comment):
				repairs[RepairElementDiffers]++
				tx.Delete(keyOnly(we))
				adds = append(adds, we)
			}
		}
		for _, k := range set.order {
			if _, ok := haveBy[canonKey(set.elems[k].Key)]; !ok {
				repairs[RepairElementMissing]++
				adds = append(adds, set.elems[k])
			}
		}
	}
	return adds
}

func setName(s *model.Set, isMap bool) string {
	if s.IsMap == isMap {
		return s.Name
	}
	return ""
}

// canonKey is a key or value as model.Canonical writes each field.
func canonKey(fields []string) string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = model.Canonical(f)
	}
	return strings.Join(out, " . ")
}

func ruleTexts(c *model.Chain) []string {
	out := make([]string, len(c.Rules))
	for i, r := range c.Rules {
		out[i] = r.Text()
	}
	return out
}

// sameChainDef compares what nft lists of a chain's definition: a base
// chain's type, hook and priority. Comments are left out, as nft 1.0.6
// does not list them (see model.Table.Dump).
func sameChainDef(have, want *model.Chain) bool {
	if have.IsBase() != want.IsBase() {
		return false
	}
	return !want.IsBase() || deref(have.Type) == deref(want.Type) && deref(have.Hook) == deref(want.Hook) && have.Prio == want.Prio
}

// sameSetDef compares a set's or map's type and flags; the "dynamic" flag
// is left out, as the kernel may add it by itself.
func sameSetDef(have, want *model.Set) bool {
	flags := func(s *model.Set) []string {
		return slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(s.Flags), func(f string) bool { return f == "dynamic" })))
	}
	return have.IsMap == want.IsMap && slices.Equal(have.Key, want.Key) && have.Data == want.Data &&
		slices.Equal(flags(have), flags(want))
}
