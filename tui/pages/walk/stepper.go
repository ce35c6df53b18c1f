package walk

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/rules"
)

// stepperView shows the packet, the steps taken so far and the current
// rule inside its chain; past the last step, the final distribution.
func (p *Page) stepperView() string {
	w, _ := p.walk()
	d := p.hops.Dataplane[p.cur.hop]
	lines := []string{common.Truncate(p.Styles.Bold.Render(fmt.Sprintf("%s %s  %s", d.Node, d.Mode, packetLabel(w.Packet))), p.Width)}
	if p.step >= len(w.Steps) {
		lines = append(lines, p.Styles.PaneTitle.Render(fmt.Sprintf("Final distribution after %d steps: %d outcome(s)", len(w.Steps), len(w.Outcomes))))
		lines = append(lines, p.outcomes(w)...)
		return common.Fit(lines, p.Width, p.Height)
	}
	s := w.Steps[p.step]
	status := fmt.Sprintf("step %d/%d  %s", p.step+1, len(w.Steps), stepLabel(s))
	lines = append(lines, common.Truncate(p.Styles.Current.Render(status), p.Width))
	rest := p.Height - len(lines)
	trailH := max(1, rest/2-1)
	lines = append(lines, p.trail(w, trailH)...)
	lines = append(lines, p.chain(d, s, rest-trailH)...)
	return common.Fit(lines, p.Width, p.Height)
}

func stepLabel(s trace.WalkStep) string {
	where := s.Chain
	if s.Table != "" {
		where = s.Table + " " + s.Chain
	}
	if s.Line > 0 {
		where += fmt.Sprintf(" line %d", s.Line)
	}
	if isPolicy(s) {
		return fmt.Sprintf("%s: %s applied, reached by %s", where, s.Note, common.Percent(s.Probability))
	}
	verdict := "not matched"
	if s.Matched {
		verdict = "matched"
	}
	out := fmt.Sprintf("%s: %s, reached by %s", where, verdict, common.Percent(s.Probability))
	if s.Note != "" {
		out += " (" + s.Note + ")"
	}
	return out
}

// isPolicy reports whether s is the end of a built-in chain, where its
// policy decided: trace.WalkStep has no rule there, so Rule is the chain
// declaration (":OUTPUT ACCEPT") and Note names the policy. Matched is
// false, but the policy did apply.
func isPolicy(s trace.WalkStep) bool {
	return strings.HasPrefix(s.Rule, ":") && strings.HasPrefix(s.Note, "policy")
}

// trail lists the steps up to the current one, the current one last;
// only the lines that fit are drawn.
func (p *Page) trail(w trace.PacketWalk, height int) []string {
	first := max(0, p.step-height+1)
	lines := make([]string, 0, height)
	for i := first; i <= p.step; i++ {
		s := w.Steps[i]
		mark := "·"
		if s.Matched || isPolicy(s) {
			mark = "✔"
		}
		line := fmt.Sprintf("%s%s %s", "", mark, stepLabel(s))
		if i == p.step {
			line = p.Styles.Current.Render(common.Truncate("▶ "+line, p.Width))
		} else {
			line = common.Truncate("  "+line, p.Width)
		}
		lines = append(lines, line)
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return lines
}

// chain shows the step's chain around the current rule.
func (p *Page) chain(d trace.DataplaneHop, s trace.WalkStep, height int) []string {
	ci := findChain(d.Chains, s)
	title := "chain " + s.Chain
	if ci < 0 {
		return []string{p.Styles.Dim.Render(strings.Repeat("─", p.Width)),
			common.Truncate(p.Styles.PaneTitle.Render(title)+p.Styles.Dim.Render("  (not in the listing)"), p.Width),
			common.Truncate(p.Styles.Current.Render("▶ "+s.Rule), p.Width)}
	}
	c := d.Chains[ci]
	cur := findRule(c, s)
	lines := []string{p.Styles.Dim.Render(strings.Repeat("─", p.Width)), rules.Header(p.Styles, c, p.flow, p.Width)}
	h := max(1, height-len(lines))
	first := max(0, min(cur-h/2, len(c.Rules)-h))
	for i := first; i < len(c.Rules) && i < first+h; i++ {
		share, ok := p.flow.Share(c.Name, c.Rules[i].Text)
		lines = append(lines, rules.Line(p.Styles, c.Rules[i], share, ok, i == cur, p.Width))
	}
	return lines
}

func findChain(cs []trace.ChainListing, s trace.WalkStep) int {
	for i, c := range cs {
		if c.Name == s.Chain && (s.Table == "" || c.Table == "" || c.Table == s.Table) {
			return i
		}
	}
	return -1
}

// findRule finds the step's rule by its dump line, or by its text when the
// rules were generated and have no line.
func findRule(c trace.ChainListing, s trace.WalkStep) int {
	for i, r := range c.Rules {
		if s.Line > 0 && r.Line == s.Line {
			return i
		}
	}
	for i, r := range c.Rules {
		if r.Text == s.Rule {
			return i
		}
	}
	return -1
}

// outcomes lists each verdict with its share and the chains it took.
func (p *Page) outcomes(w trace.PacketWalk) []string {
	var lines []string
	for _, o := range w.Outcomes {
		verdict := o.Verdict
		if o.Target != "" {
			verdict += " " + o.Target
		}
		head := fmt.Sprintf("%-28s %s %6s", verdict, p.Styles.Bar.Render(common.Bar(o.Probability, 20)), common.Percent(o.Probability))
		if o.Masquerade {
			head += "  masquerade"
		}
		lines = append(lines, "", common.Truncate("  "+head, p.Width))
		// Path is the chain path that decided the verdict, as the text
		// output prints it; Chains (every chain met) is the fallback.
		via := o.Path
		if via == "" {
			via = strings.Join(o.Chains, " → ")
		}
		for _, l := range common.Wrap("via "+via, p.Width-4) {
			lines = append(lines, "    "+p.Styles.Dim.Render(l))
		}
		if o.Note != "" {
			lines = append(lines, common.Truncate("    "+p.Styles.Info.Render(o.Note), p.Width))
		}
	}
	return lines
}
