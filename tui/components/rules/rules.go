// Package rules renders dataplane rules for the Chains and Packet walk
// screens: line number in the dump, drift mark, and the share of traffic
// each jump carries according to the trace's packet walks.
package rules

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// Flow is what packet walks say about the chains: how likely a packet
// enters each one and which chains each hands packets to. It is read from
// Outcomes, not computed from the rules.
type Flow struct {
	Reach map[string]float64
	Next  map[string][]string
	// outcomes are kept to label endpoint chains with their DNAT target;
	// target caches the answer per chain ("" when none).
	outcomes []trace.Outcome
	target   map[string]string
}

// FlowOf merges the outcomes of walks; walks of different Service ports
// pass through different chains, so their shares do not overlap.
func FlowOf(walks ...trace.PacketWalk) Flow {
	f := Flow{Reach: map[string]float64{}, Next: map[string][]string{}, target: map[string]string{}}
	for _, w := range walks {
		reach := map[string]float64{}
		for _, o := range w.Outcomes {
			seen := map[string]bool{}
			for i, c := range o.Chains {
				if !seen[c] {
					seen[c] = true
					reach[c] += o.Probability
				}
				if i+1 < len(o.Chains) && !contains(f.Next[c], o.Chains[i+1]) {
					f.Next[c] = append(f.Next[c], o.Chains[i+1])
				}
			}
			if o.Target != "" {
				f.outcomes = append(f.outcomes, o)
			}
		}
		for c, p := range reach {
			f.Reach[c] = max(f.Reach[c], p)
		}
	}
	return f
}

// Target is the DNAT target of an outcome that went through c, when c
// holds the DNAT rule to it: kube-proxy's KUBE-SEP chain or nftables'
// endpoint chain. It is worked out when a chain is first drawn, since
// scanning a 200,000-rule KUBE-SERVICES on every reload would be wasted.
func (f Flow) Target(c trace.ChainListing) (string, bool) {
	if f.target == nil {
		return "", false
	}
	if t, ok := f.target[c.Name]; ok {
		return t, t != ""
	}
	f.target[c.Name] = ""
	for _, o := range f.outcomes {
		if contains(o.Chains, c.Name) && dnatsTo(c, o.Target) {
			f.target[c.Name] = o.Target
			return o.Target, true
		}
	}
	return "", false
}

func dnatsTo(c trace.ChainListing, target string) bool {
	for _, r := range c.Rules {
		if (strings.Contains(r.Text, "DNAT") || strings.Contains(r.Text, "dnat")) && JumpsTo(r.Text, target) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Share is the probability that a packet takes the jump in rule text of
// chain, when a walk went through that jump.
func (f Flow) Share(chain, text string) (float64, bool) {
	for _, next := range f.Next[chain] {
		if JumpsTo(text, next) {
			return f.Reach[next], true
		}
	}
	return 0, false
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
func Line(st *common.Styles, r trace.RuleLine, share float64, hasShare, current bool, width int) string {
	num := "     -"
	if r.Line > 0 {
		num = fmt.Sprintf("%6d", r.Line)
	}
	mark := "  "
	if current {
		mark = "▶ "
	}
	// Drift comes first so that a narrow screen still shows it.
	var mid string
	if r.Drift != "" {
		mid = st.Drift.Render("✘ "+r.Drift) + " "
	}
	if hasShare {
		mid += st.Bar.Render(common.Bar(share, barWidth)) + fmt.Sprintf(" %6s ", common.Percent(share))
	}
	text := r.Text
	switch {
	case current:
		return st.Current.Render(common.Truncate(mark+num+" "+plainMid(r, share, hasShare)+text, width))
	case r.Drift != "":
		text = st.Drift.Render(text)
	}
	return common.Truncate(mark+st.Dim.Render(num)+" "+mid+text, width)
}

// plainMid is mid without inner styles, for rows drawn in one style.
func plainMid(r trace.RuleLine, share float64, hasShare bool) string {
	var mid string
	if r.Drift != "" {
		mid = "✘ " + r.Drift + " "
	}
	if hasShare {
		mid += common.Bar(share, barWidth) + fmt.Sprintf(" %6s ", common.Percent(share))
	}
	return mid
}

// Header renders a chain's title line. Drift leads, so that it shows
// however long the chain's name; a drifted chain without rules (one that
// is missing from the dump) has nothing else to show it.
func Header(st *common.Styles, c trace.ChainListing, f Flow, width int) string {
	title := c.Name
	if c.Table != "" {
		title = c.Table + " " + c.Name
	}
	var s string
	if c.Drift != "" {
		s = st.Drift.Render("✘ drift "+c.Drift) + " "
	}
	s += st.PaneTitle.Render(title) + st.Dim.Render("  "+RuleCount(len(c.Rules)))
	if p, ok := f.Reach[c.Name]; ok {
		s += "  " + common.Percent(p) + " of packets"
	}
	if t, ok := f.Target(c); ok {
		s += "  → " + t
	}
	return common.Truncate(s, width)
}

// RuleCount is "1 rule" or "n rules".
func RuleCount(n int) string {
	if n == 1 {
		return "1 rule"
	}
	return fmt.Sprintf("%d rules", n)
}
