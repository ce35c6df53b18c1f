package chains

import (
	"fmt"
	"strings"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/rules"
)

// View implements common.Page.
func (p *Page) View() string {
	if len(p.choices) == 0 {
		return common.Fit([]string{"", "  no dataplane rules in this trace",
			p.Styles.Dim.Render("  they come from a node's ruleset dump or from the rules kube-proxy should write")}, p.Width, p.Height)
	}
	if len(p.chains) == 0 {
		hop := p.hop()
		return common.Fit(append(p.header(), "", fmt.Sprintf("  no chains listed for node %s (%s)", hop.Node, hop.Source)), p.Width, p.Height)
	}
	dh := p.detailHeight()
	return common.Stack(common.Block{View: common.Fit(p.header(), p.Width, min(headerHeight, p.Height)), Height: min(headerHeight, p.Height)},
		common.Block{View: p.list.View(), Height: p.Height - headerHeight - dh},
		common.Block{View: p.detail(), Height: dh})
}

// header names the node's rules and the packet whose walk the shares are
// of: every packet of the port passes some of the chains listed, each
// with shares of its own.
func (p *Page) header() []string {
	ch := p.choices[p.choice]
	hop := p.hop()
	mode := hop.Mode
	if hop.Family != "" {
		mode += " " + hop.Family
	}
	s := fmt.Sprintf("node %s · %s · %s", hop.Node, mode, hop.Source)
	if ch.port != "" {
		s += " · port " + ch.port
	}
	if len(p.choices) > 1 {
		s += p.Styles.Dim.Render(fmt.Sprintf("   [/] view %d/%d", p.choice+1, len(p.choices)))
	}
	var packet string
	switch {
	case ch.walk >= 0:
		pk := hop.Walks[ch.walk].Packet
		pk.ServicePort = ""
		packet = "shares of the packet " + rules.PacketLabel(pk)
	case hop.Note != "":
		packet = "no packet walked: " + hop.Note
	default:
		packet = "no packet walked through these rules"
	}
	return []string{common.Truncate(p.Styles.Bold.Render(s), p.Width), common.Truncate(p.Styles.Dim.Render(packet), p.Width)}
}

func (p *Page) detail() string {
	var lines []string
	if i := p.list.Cursor(); i >= 0 {
		r := p.rows[i]
		c := p.hop().Chains[r.chain]
		var text string
		if r.rule >= 0 {
			text = p.ruleDetail(c, c.Rules[r.rule])
		} else {
			name := c.Name
			if c.Table != "" {
				name = c.Table + " " + c.Name
			}
			text = fmt.Sprintf("chain %s: %s", name, rules.RuleCount(c.Rules))
			if c.Drift != "" {
				text += "  [drift " + string(c.Drift) + "]"
			}
		}
		lines = append(lines, textfmt.Wrap(text, p.Width)...)
	}
	return p.Styles.Pane(lines, p.Width, p.detailHeight())
}

// ruleDetail is the rule in full. Generated rules have no line; the sticky
// mark leads the text, which is long while the pane is short.
func (p *Page) ruleDetail(c dataplane.Listing, rl dataplane.RuleLine) string {
	var head []string
	if rl.Line > 0 {
		head = append(head, fmt.Sprintf("line %d", rl.Line))
	}
	if p.flow.Share(c, rl.Text).Sticky {
		head = append(head, "sticky (only for clients already pinned by ClientIP affinity)")
	}
	text := rl.Text
	if len(head) > 0 {
		text = strings.Join(head, ", ") + ": " + text
	}
	if rl.Drift != "" {
		text += "  [drift " + string(rl.Drift) + "]"
	}
	return text
}

type source struct{ p *Page }

func (s source) Len() int { return len(s.p.rows) }

func (s source) Row(i, width int, selected bool) string {
	p := s.p
	if width <= 0 {
		// The cursor column alone would be one too many.
		return ""
	}
	r := p.rows[i]
	c := p.hop().Chains[r.chain]
	cursor := " "
	if selected {
		cursor = "›"
	}
	if r.rule < 0 {
		line := cursor + rules.Header(p.Styles, c, p.flow, width-1)
		if selected {
			return p.Styles.Selected.Render(common.Plain(line))
		}
		return line
	}
	rl := c.Rules[r.rule]
	line := rules.Line(p.Styles, rl, p.flow.Share(c, rl.Text), false, width-1)
	if selected {
		return p.Styles.Selected.Render(cursor + common.Plain(line))
	}
	return cursor + line
}
