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
	// Reach is the chance of entering each chain, for a client that
	// ClientIP affinity has not pinned to an endpoint yet; never above 1.
	Reach map[string]float64
	// Sticky holds the chains only pinned clients enter.
	Sticky map[string]bool
	Next   map[string][]string
	// outcomes are kept to label endpoint chains with their DNAT target;
	// target caches the answer per chain ("" when none).
	outcomes []trace.Outcome
	target   map[string]string
}

// FlowOf merges the outcomes of walks; walks of different Service ports
// pass through different chains, so their shares do not overlap.
func FlowOf(walks ...trace.PacketWalk) Flow {
	f := Flow{Reach: map[string]float64{}, Sticky: map[string]bool{}, Next: map[string][]string{}, target: map[string]string{}}
	for _, w := range walks {
		var fresh []trace.Outcome
		for _, o := range w.Outcomes {
			for i, c := range o.Chains {
				if i+1 < len(o.Chains) && !contains(f.Next[c], o.Chains[i+1]) {
					f.Next[c] = append(f.Next[c], o.Chains[i+1])
				}
			}
			if o.Target != "" {
				f.outcomes = append(f.outcomes, o)
			}
			if Pinned(o) {
				for _, c := range o.Chains {
					f.Sticky[c] = true
				}
				continue
			}
			fresh = append(fresh, o)
		}
		for c, p := range reach(fresh) {
			f.Reach[c] = max(f.Reach[c], p)
		}
	}
	for c := range f.Reach {
		delete(f.Sticky, c)
	}
	return f
}

// Pinned reports whether o is the path of a client that ClientIP affinity
// already pinned to an endpoint: besides the distribution over endpoints
// for fresh clients, a walk through an iptables `recent --rcheck` rule has
// one such outcome per endpoint, each of probability 1 (see
// trace.PacketWalk.Outcomes). They are alternatives to the fresh path, not
// shares of the traffic.
func Pinned(o trace.Outcome) bool { return o.Affinity == "sticky" }

// reach is the chance of entering each chain over outcomes that should add
// up to 1. When they add up to more, some rest on opposite assumptions
// (both sides of a match the walk could not evaluate), and adding those
// would count a packet twice: the chances are then added within each set
// of assumptions (an outcome's Assumptions), outcomes resting on none counting in
// every set, and the largest is kept. A set whose note could not tell its
// alternatives apart still adds up to more than 1; it is scaled down to 1,
// weighing them alike.
func reach(outs []trace.Outcome) map[string]float64 {
	if total(outs) <= 1+1e-9 {
		return sums(outs)
	}
	var shared []trace.Outcome
	sets := map[string][]trace.Outcome{}
	for _, o := range outs {
		if len(o.Assumptions) == 0 {
			shared = append(shared, o)
		} else {
			key := strings.Join(o.Assumptions, "\x00")
			sets[key] = append(sets[key], o)
		}
	}
	if len(sets) == 0 {
		sets[""] = nil
	}
	out := map[string]float64{}
	for _, set := range sets {
		set = append(set[:len(set):len(set)], shared...)
		scale := max(1, total(set))
		for c, p := range sums(set) {
			out[c] = max(out[c], p/scale)
		}
	}
	return out
}

func total(outs []trace.Outcome) float64 {
	var t float64
	for _, o := range outs {
		t += o.Probability
	}
	return t
}

// sums adds, per chain, the probabilities of the outcomes entering it,
// each outcome once however often it passes the chain.
func sums(outs []trace.Outcome) map[string]float64 {
	out := map[string]float64{}
	for _, o := range outs {
		seen := map[string]bool{}
		for _, c := range o.Chains {
			if !seen[c] {
				seen[c] = true
				out[c] += o.Probability
			}
		}
	}
	return out
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

// Share is what a walk says about one rule's jump.
type Share struct {
	// Known is set when a walk went through the jump.
	Known bool
	// P is the chance that a fresh client takes it.
	P float64
	// Sticky is set when only clients pinned by ClientIP affinity take
	// it: P does not apply.
	Sticky bool
}

// Share is the share of traffic taking the jump in rule text of chain,
// when a walk went through that jump. A `recent --rcheck` rule matches
// only clients already in its list, so its jump is sticky even though
// fresh clients reach the same endpoint chain through another rule.
func (f Flow) Share(chain, text string) Share {
	for _, next := range f.Next[chain] {
		if !JumpsTo(text, next) {
			continue
		}
		p, fresh := f.Reach[next]
		if !fresh || checksRecent(text) {
			return Share{Known: true, Sticky: true}
		}
		return Share{Known: true, P: p}
	}
	return Share{}
}

// checksRecent reports whether an iptables rule matches only sources
// already in a recent list (kube-proxy's ClientIP affinity).
func checksRecent(text string) bool {
	for _, w := range strings.Fields(text) {
		if w == "--rcheck" || w == "--update" {
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
func Line(st *common.Styles, r trace.RuleLine, sh Share, current bool, width int) string {
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
		mid = st.Drift.Render("✘ "+r.Drift) + " "
	}
	switch {
	case sh.Sticky:
		mid += st.Dim.Render(share(sh))
	case sh.Known:
		mid += st.Bar.Render(common.Bar(sh.P, barWidth)) + percent(sh.P)
	}
	return common.Truncate(mark+st.Dim.Render(num)+" "+mid+text, width)
}

func drift(r trace.RuleLine) string {
	if r.Drift == "" {
		return ""
	}
	return "✘ " + r.Drift + " "
}

// share is the bar and percentage of a jump, or the sticky mark in the
// same width so that the rule texts stay aligned.
func share(sh Share) string {
	switch {
	case sh.Sticky:
		return fmt.Sprintf("%-*s ", barWidth+7, "sticky")
	case sh.Known:
		return common.Bar(sh.P, barWidth) + percent(sh.P)
	}
	return ""
}

func percent(p float64) string { return fmt.Sprintf(" %6s ", common.Percent(p)) }

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
	} else if f.Sticky[c.Name] {
		s += "  sticky: pinned clients only"
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
