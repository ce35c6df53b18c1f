package walk

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/rules"
)

// stepperView shows the packet, the steps taken so far and the current
// rule inside its chain; past the last step, the final distribution.
func (p *Page) stepperView() string {
	w, _ := p.walk()
	d := p.hops.Dataplane[p.cur.hop]
	lines := []string{common.Truncate(p.Styles.Bold.Render(fmt.Sprintf("%s %s  %s", d.Node, modeLabel(d), rules.PacketLabel(w.Packet))), p.Width)}
	if p.step >= len(w.Steps) {
		lines = append(lines, p.Styles.PaneTitle.Render(fmt.Sprintf("Final distribution after %d steps: %s", len(w.Steps), plural(len(w.Outcomes), "outcome"))))
		return common.Fit(append(lines, p.distribution(w, p.Height-len(lines))...), p.Width, p.Height)
	}
	s := w.Steps[p.step]
	status := fmt.Sprintf("step %d/%d  ", p.step+1, len(w.Steps))
	if s.Branch > 0 {
		status += fmt.Sprintf("branch %d/%d  ", s.Branch, len(w.Outcomes))
	}
	lines = append(lines, common.Truncate(p.Styles.Current.Render(status+stepLabel(w, s)), p.Width))
	rest := p.Height - len(lines)
	trailH := max(1, rest/2-1)
	lines = append(lines, p.trail(w, trailH)...)
	lines = append(lines, p.chain(d, s, rest-trailH)...)
	return common.Fit(lines, p.Width, p.Height)
}

// distribution is the window of the outcomes' lines that fits height,
// from the scroll position, saying how many more lie below.
func (p *Page) distribution(w dataplane.Walk, height int) []string {
	all := p.outcomes(w)
	if height <= 0 {
		return nil
	}
	if len(all) <= height {
		return all
	}
	// The last line of the window says what is left, until the last
	// outcome line is in view.
	top := min(p.scroll, maxScroll(len(all), height))
	end := top + height - 1
	if end >= len(all) {
		return all[top:]
	}
	more := p.Styles.Dim.Render(fmt.Sprintf("  … %d more lines: ↓/j scrolls", len(all)-end))
	return append(all[top:end:end], more)
}

// maxScroll is the furthest the distribution scrolls: its last line in view.
func maxScroll(lines, height int) int {
	if lines <= height {
		return 0
	}
	return lines - height + 1
}

// modeLabel is the proxy mode, with the family when it is not the usual one.
func modeLabel(d trace.DataplaneHop) string {
	if d.Family == "IPv6" {
		return d.Mode + " IPv6"
	}
	return d.Mode
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// stepLabel says where the step is, whether its rule matched and how many
// packets got there. On an outcome's own stretch, where only some of those
// packets end in that outcome (the first steps of a branch are also the
// way to later ones), it says how many.
func stepLabel(w dataplane.Walk, s dataplane.Step) string {
	where := s.Chain
	if s.Table != "" {
		where = s.Table + " " + s.Chain
	}
	if s.Line > 0 {
		where += fmt.Sprintf(" line %d", s.Line)
	}
	reached := "reached by " + textfmt.Percent(s.Probability)
	if s.Branch > 0 && s.Branch <= len(w.Outcomes) && s.Probability > 0 {
		// Where all of them do, the branch's heading says enough.
		if share := w.Outcomes[s.Branch-1].Probability / s.Probability; share < 0.9995 {
			reached += fmt.Sprintf(", %s of them end in branch %d", textfmt.Percent(share), s.Branch)
		}
	}
	if isPolicy(s) {
		return fmt.Sprintf("%s: %s applied, %s", where, s.Note, reached)
	}
	verdict := "not matched"
	if s.Matched {
		verdict = "matched"
	}
	out := fmt.Sprintf("%s: %s, %s", where, verdict, reached)
	if s.Note != "" {
		out += " (" + s.Note + ")"
	}
	return out
}

// isPolicy reports whether s is the end of a built-in chain, where its
// policy decided.
func isPolicy(s dataplane.Step) bool { return s.Kind == dataplane.StepPolicy }

// trail lists the steps up to the current one, the current one last, with
// a separator wherever the branch changes; only the lines that fit are
// drawn, and the top line always names the branch of the steps under it.
func (p *Page) trail(w dataplane.Walk, height int) []string {
	type entry struct {
		text   string
		branch int
		sep    bool
	}
	// Only the last height steps can show, each with at most one separator.
	first := max(0, p.step-height+1)
	var all []entry
	for i := first; i <= p.step; i++ {
		s := w.Steps[i]
		if i == 0 || w.Steps[i-1].Branch != s.Branch {
			all = append(all, entry{p.separator(w, s.Branch), s.Branch, true})
		}
		mark := "·"
		if s.Matched || isPolicy(s) {
			mark = "✔"
		}
		line := mark + " " + stepLabel(w, s)
		if i == p.step {
			line = p.Styles.Current.Render(common.Truncate("▶ "+line, p.Width))
		} else {
			line = common.Truncate("  "+line, p.Width)
		}
		all = append(all, entry{text: line, branch: s.Branch})
	}
	if !all[0].sep {
		all = append([]entry{{p.separator(w, all[0].branch), all[0].branch, true}}, all...)
	}
	shown := all[max(0, len(all)-height):]
	if !shown[0].sep && height > 1 {
		// Pin the heading of the top step, unless that step would give way
		// to it and leave it heading nothing.
		shown = all[len(all)-height+1:]
		if !shown[0].sep {
			shown = append([]entry{{p.separator(w, shown[0].branch), shown[0].branch, true}}, shown...)
		}
	}
	lines := make([]string, 0, height)
	for _, e := range shown {
		lines = append(lines, e.text)
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	return lines
}

// separator heads a stretch of steps: the path every outcome shares, or
// the branch of one outcome, named by its verdict and share.
func (p *Page) separator(w dataplane.Walk, branch int) string {
	text, style := "", p.Styles.Dim
	switch {
	case branch <= 0 && len(w.Outcomes) == 1:
		text = "path to the only outcome"
	case branch <= 0:
		text = fmt.Sprintf("path shared by all %d outcomes", len(w.Outcomes))
	case branch > len(w.Outcomes):
		text = fmt.Sprintf("branch %d", branch)
	default:
		o := w.Outcomes[branch-1]
		text = fmt.Sprintf("branch %d/%d → %s (%s)", branch, len(w.Outcomes), verdictLabel(o), textfmt.Percent(o.Probability))
		if bad(o) {
			text, style = "✘ "+text, p.Styles.Bad
			if o.NotEndpoint {
				text += ", not an endpoint"
			}
		}
	}
	line := "── " + text + " "
	return style.Render(common.Truncate(line+strings.Repeat("─", max(2, p.Width-len([]rune(line)))), p.Width))
}

// chain shows the step's chain around the current rule.
func (p *Page) chain(d trace.DataplaneHop, s dataplane.Step, height int) []string {
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
		sh := p.flow.Share(c, c.Rules[i].Text)
		lines = append(lines, rules.Line(p.Styles, c.Rules[i], sh, i == cur, p.Width))
	}
	return lines
}

func findChain(cs []dataplane.Listing, s dataplane.Step) int {
	for i, c := range cs {
		if c.Name == s.Chain && (s.Table == "" || c.Table == "" || c.Table == s.Table) {
			return i
		}
	}
	return -1
}

// findRule finds the step's rule by its dump line, or by its text when the
// rules were generated and have no line.
func findRule(c dataplane.Listing, s dataplane.Step) int {
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
