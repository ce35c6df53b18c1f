package nftables

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Dump lists t in a stable order without handles or listing lines: the
// table, its chains by name (a base chain with its hook) with their rules
// in order, its sets and maps by name with their elements sorted. Two
// tables holding the same state dump alike, whether one was listed by nft
// and the other made by Materialize. Left out is what nft versions list
// differently for the same state: table and chain comments (nft 1.0.6
// lists none in JSON) and a set's "dynamic" flag (which the kernel may
// add by itself).
func (t *Table) Dump() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table %s %s\n", t.Family, t.Name)
	chains := slices.Clone(t.Chains)
	sort.Slice(chains, func(i, j int) bool { return chains[i].Name < chains[j].Name })
	for _, c := range chains {
		fmt.Fprintf(&b, "chain %s", c.Name)
		if c.IsBase() {
			fmt.Fprintf(&b, " { type %s hook %s priority %d policy %s }", deref(c.Type), deref(c.Hook), c.Prio, deref(c.Policy))
		}
		b.WriteString("\n")
		for _, r := range c.Rules {
			fmt.Fprintf(&b, "\t%s\n", r.Text())
		}
	}
	names := make([]string, 0, len(t.Sets))
	for n := range t.Sets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := t.Sets[n]
		kind, typ := "set", strings.Join(s.Key, " . ")
		if s.IsMap {
			kind, typ = "map", typ+" : "+s.Data
		}
		fmt.Fprintf(&b, "%s %s { type %s", kind, s.Name, typ)
		if flags := slices.DeleteFunc(slices.Clone(s.Flags), func(f string) bool { return f == "dynamic" }); len(flags) > 0 {
			fmt.Fprintf(&b, " flags %s", strings.Join(flags, ","))
		}
		fmt.Fprintf(&b, " }%s\n", commentText(s.Comment))
		elems := make([]string, len(s.Elements))
		for i, e := range s.Elements {
			elems[i] = strings.Join(e.Key, " . ")
			if s.IsMap {
				elems[i] += " : " + strings.Join(e.Value, " . ")
			}
			elems[i] += commentText(deref(e.Comment))
		}
		sort.Strings(elems)
		for _, e := range elems {
			fmt.Fprintf(&b, "\t%s\n", e)
		}
	}
	return b.String()
}

func commentText(c string) string {
	if c == "" {
		return ""
	}
	return fmt.Sprintf(" comment %q", c)
}
