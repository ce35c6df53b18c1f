package iptables

import (
	"slices"
	"strconv"
	"strings"
)

// plan is one iptables-restore transaction: per table, the chains to
// declare (created, or flushed when they exist), rule lines, and chains to
// delete last.
type plan struct {
	decl  map[string][]string
	lines map[string][]string
	del   map[string][]string
}

func newPlan() *plan {
	return &plan{decl: map[string][]string{}, lines: map[string][]string{}, del: map[string][]string{}}
}

func (p *plan) empty() bool {
	return len(p.decl) == 0 && len(p.lines) == 0 && len(p.del) == 0
}

// rewrite declares chain r and appends all its rules.
func (p *plan) rewrite(r ref, specs []string) {
	p.decl[r.table] = append(p.decl[r.table], r.chain)
	for _, s := range specs {
		p.line(r.table, "-A", r.chain, s)
	}
}

func (p *plan) line(table string, parts ...string) {
	p.lines[table] = append(p.lines[table], strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " "))
}

// remove flushes chain r and deletes it after every other line has run, so
// rules still jumping to it are gone by then.
func (p *plan) remove(r ref) {
	p.decl[r.table] = append(p.decl[r.table], r.chain)
	p.del[r.table] = append(p.del[r.table], r.chain)
}

// input renders the transaction; tables with nothing to do are left out.
func (p *plan) input(order []string) []byte {
	var b strings.Builder
	for _, t := range order {
		if len(p.decl[t]) == 0 && len(p.lines[t]) == 0 && len(p.del[t]) == 0 {
			continue
		}
		b.WriteString("*" + t + "\n")
		for _, c := range p.decl[t] {
			b.WriteString(":" + c + " - [0:0]\n")
		}
		for _, l := range p.lines[t] {
			b.WriteString(l + "\n")
		}
		for _, c := range p.del[t] {
			b.WriteString("-X " + c + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return []byte(b.String())
}

// edit turns old into new inside a shared chain with "-D" and "-I N"
// lines, so that rules of Services that did not change are left alone.
// It reports false when the rules that stay changed order, or when
// rewriting the chain would be shorter; the caller then rewrites it.
//
// Why: kube-proxy's partial sync (KEP-3453) still rewrites KUBE-SERVICES,
// KUBE-NODEPORTS and KUBE-EXTERNAL-SERVICES on every change, which at
// thousands of Services is most of the restore. The one rule a Service
// owns in those chains changes only when the Service itself changes (not
// when its endpoints do, unless it gains or loses its last one), so an
// endpoint change touches no shared chain at all, and a Service change
// costs a couple of lines instead of the whole chain.
func (p *plan) edit(r ref, old, new []string) bool {
	want := map[string]int{}
	for _, s := range new {
		want[s]++
	}
	var kept, removed []string
	for _, s := range old {
		if want[s] > 0 {
			want[s]--
			kept = append(kept, s)
		} else {
			removed = append(removed, s)
		}
	}
	type ins struct {
		pos  int
		spec string
	}
	var inserts []ins
	j := 0
	for i, s := range new {
		if j < len(kept) && kept[j] == s {
			j++
			continue
		}
		inserts = append(inserts, ins{i + 1, s})
	}
	if j != len(kept) || len(removed)+len(inserts) > len(new)/2+1 {
		return false
	}
	for _, s := range removed {
		p.line(r.table, "-D", r.chain, s)
	}
	for _, in := range inserts {
		p.line(r.table, "-I", r.chain, strconv.Itoa(in.pos), in.spec)
	}
	return true
}
