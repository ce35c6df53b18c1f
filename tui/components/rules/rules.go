// Package rules renders dataplane rules for the Chains and Packet walk
// screens: line number in the dump, drift mark, and the share of traffic
// each rule carries according to a packet walk of the trace.
package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// Target is the DNAT target of an outcome that went through c, when c
// holds the DNAT rule to it: kube-proxy's KUBE-SEP chain or nftables'
// endpoint chain. It is worked out when a chain is first drawn, since
// scanning a 200,000-rule KUBE-SERVICES on every reload would be wasted.
func (f Flow) Target(c dataplane.Listing) (string, bool) {
	if f.target == nil {
		return "", false
	}
	if t, ok := f.target[c.Name]; ok {
		return t, t != ""
	}
	f.target[c.Name] = ""
	for _, o := range f.outcomes {
		if slices.Contains(o.Chains, c.Name) && dnatsTo(c, o.Target) {
			f.target[c.Name] = o.Target
			return o.Target, true
		}
	}
	return "", false
}

func dnatsTo(c dataplane.Listing, target string) bool {
	for _, r := range c.Rules {
		if (strings.Contains(r.Text, "DNAT") || strings.Contains(r.Text, "dnat")) && JumpsTo(r.Text, target) {
			return true
		}
	}
	return false
}

// JumpsTo reports whether rule text names chain (or a DNAT target) as a
// whole word, so KUBE-SEP-A does not match KUBE-SEP-AB.
func JumpsTo(text, chain string) bool {
	for _, w := range strings.Fields(text) {
		if strings.Trim(w, `",;{}`) == chain {
			return true
		}
	}
	return false
}

// barWidth is the width of a probability bar in cells.
const barWidth = 10

// Line renders one rule: cursor, dump line number, share bar, drift and the
// rule text, cut to width.
func Line(st *common.Styles, r dataplane.RuleLine, sh Share, current bool, width int) string {
	num := "     -"
	if r.Line > 0 {
		num = fmt.Sprintf("%6d", r.Line)
	}
	mark := "  "
	if current {
		mark = "▶ "
	}
	text := r.Text
	switch {
	case current:
		return st.Current.Render(common.Truncate(mark+num+" "+drift(r)+share(sh)+text, width))
	case r.Drift != "":
		text = st.Drift.Render(text)
	}
	// Drift comes first so that a narrow screen still shows it.
	var mid string
	if r.Drift != "" {
		mid = st.Drift.Render("✘ "+string(r.Drift)) + " "
	}
	switch {
	case sh.Sticky:
		mid += st.Dim.Render(share(sh))
	case sh.Known:
		mid += st.Bar.Render(textfmt.Bar(sh.P, barWidth)) + percent(sh.P)
	}
	return common.Truncate(mark+st.Dim.Render(num)+" "+mid+text, width)
}

func drift(r dataplane.RuleLine) string {
	if r.Drift == "" {
		return ""
	}
	return "✘ " + string(r.Drift) + " "
}

// share is the bar and percentage of a jump, or the sticky mark in the
// same width so that the rule texts stay aligned.
func share(sh Share) string {
	switch {
	case sh.Sticky:
		return fmt.Sprintf("%-*s ", barWidth+7, "sticky")
	case sh.Known:
		return textfmt.Bar(sh.P, barWidth) + percent(sh.P)
	}
	return ""
}

func percent(p float64) string { return fmt.Sprintf(" %6s ", textfmt.Percent(p)) }

// Header renders a chain's title line. Drift leads, so that it shows
// however long the chain's name; a drifted chain without rules (one that
// is missing from the dump) has nothing else to show it.
func Header(st *common.Styles, c dataplane.Listing, f Flow, width int) string {
	title := c.Name
	if c.Table != "" {
		title = c.Table + " " + c.Name
	}
	var s string
	if c.Drift != "" {
		s = st.Drift.Render("✘ drift "+string(c.Drift)) + " "
	}
	s += st.PaneTitle.Render(title) + st.Dim.Render("  "+RuleCount(c.Rules))
	if p, ok := f.Reach(c); ok {
		s += "  " + textfmt.Percent(p) + " of packets"
	} else if f.StickyOnly(c) {
		s += "  sticky: pinned clients only"
	}
	if t, ok := f.Target(c); ok {
		s += "  → " + t
	}
	return common.Truncate(s, width)
}

// RuleCount counts what the node has: its rules, or for an IPVS virtual
// server its real servers, leaving out the lines listed only to carry a
// drift mark (rules it lacks) and the IPVS listing's own heading; those
// missing are counted apart.
func RuleCount(rs []dataplane.RuleLine) string {
	var n, real, missing int
	ipvs := false
	for _, r := range rs {
		switch r.Kind {
		case dataplane.LineMissing:
			missing++
		case dataplane.LineHeading:
			ipvs = true
		case dataplane.LineMember:
			real++
		default:
			n++
		}
	}
	s := plural(n+real, "rule")
	if ipvs {
		s = plural(real, "real server")
	}
	if missing > 0 {
		s += fmt.Sprintf(", %d missing", missing)
	}
	return s
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
