// Package chains is the screen that lists the rules one node's proxy
// programmed for the Service, from the KUBE-SERVICES entry to the DNAT of
// each endpoint, with drift marked and each jump's share of traffic.
package chains

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/filtered"
	"github.com/svctrace/kubectl-svctrace/tui/components/rules"
)

// choice is one node and Service port; port "" means every chain of the node.
type choice struct {
	hop  int
	port string
}

// row points at a chain header (rule -1) or one of its rules; rows are
// indices so a 200,000-rule listing costs two ints a line until drawn.
type row struct {
	chain, rule int32
}

// Page is the Chains screen.
type Page struct {
	common.Common
	hops    *trace.Trace
	choices []choice
	choice  int
	chains  []int // indices into the hop's Chains shown for the choice
	flow    rules.Flow
	rows    []row
	list    *filtered.Model
	// back holds the rows jumps were followed from, the latest last, so
	// esc retraces them; any change of rows empties it.
	back []row
	// follow and retreat are enter and esc with the arrows that mean the
	// same here, named for what they do on this screen.
	follow, retreat key.Binding
}

// New returns the Chains screen over h.
func New(c common.Common, h *trace.Trace) *Page {
	p := &Page{Common: c,
		follow:  key.NewBinding(key.WithKeys("enter", "right", "l"), key.WithHelp("enter/→", "follow jump")),
		retreat: key.NewBinding(key.WithKeys("esc", "left", "h"), key.WithHelp("esc/←", "back")),
	}
	p.list = filtered.New(c, func() { p.apply(); p.list.SetCursor(0) })
	p.SetTrace(h)
	return p
}

// Title implements common.Page.
func (p *Page) Title() string { return "Chains" }

// Capturing implements common.Page.
func (p *Page) Capturing() bool { return p.list.Capturing() }

// Bindings implements common.Page; view keys only when there is more
// than one view, and back only when there is somewhere to go back to.
func (p *Page) Bindings() []key.Binding {
	km := p.KeyMap
	if len(p.choices) == 0 {
		return nil
	}
	out := []key.Binding{km.Up, km.Down, p.follow}
	if len(p.back) > 0 {
		out = append(out, p.retreat)
	}
	if len(p.choices) > 1 {
		out = append(out, km.PrevView, km.NextView)
	}
	return append(out, km.Filter)
}

// SetTrace implements common.Page, keeping the node, port and row.
func (p *Page) SetTrace(h *trace.Trace) {
	var prev choice
	if p.choice < len(p.choices) {
		prev = p.choices[p.choice]
	}
	cursor := p.list.Cursor()
	p.hops = h
	p.choices = choices(h.Dataplane)
	p.choice = 0
	for i, c := range p.choices {
		if c == prev {
			p.choice = i
		}
	}
	p.apply()
	p.list.SetCursor(cursor)
}

func choices(dp []trace.DataplaneHop) []choice {
	var out []choice
	for i, d := range dp {
		var ports []string
		for _, w := range d.Walks {
			if !contains(ports, w.Packet.ServicePort) {
				ports = append(ports, w.Packet.ServicePort)
			}
		}
		if len(ports) == 0 {
			ports = []string{""}
		}
		for _, port := range ports {
			out = append(out, choice{hop: i, port: port})
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// apply selects the chains of the current choice and the rows that pass
// the filter.
func (p *Page) apply() {
	p.chains, p.rows, p.flow, p.back = p.chains[:0], p.rows[:0], rules.Flow{}, p.back[:0]
	if len(p.choices) == 0 {
		p.list.SetSource(source{p})
		return
	}
	var walks []trace.PacketWalk
	p.chains, walks = p.shown(p.choices[p.choice], p.chains)
	p.flow = rules.FlowOf(walks...)
	hop := p.hop()
	for _, ci := range p.chains {
		c := hop.Chains[ci]
		head := p.list.Match(c.Name)
		start := len(p.rows)
		p.rows = append(p.rows, row{int32(ci), -1})
		for ri, r := range c.Rules {
			if head || p.list.Match(r.Text) {
				p.rows = append(p.rows, row{int32(ci), int32(ri)})
			}
		}
		if !head && len(p.rows) == start+1 {
			p.rows = p.rows[:start]
		}
	}
	p.list.SetSource(source{p})
}

// shown appends to idx the indices of the chains view ch lists: those its
// port's walk passes and the drifted ones, which may be missing from the
// dump or unreachable and so met by no walk. It returns them with the
// walk whose shares the view shows.
func (p *Page) shown(ch choice, idx []int) ([]int, []trace.PacketWalk) {
	hop := p.hops.Dataplane[ch.hop]
	wanted := map[string]bool{}
	var walks []trace.PacketWalk
	for _, w := range hop.Walks {
		if w.Packet.ServicePort != ch.port {
			continue
		}
		if len(walks) == 0 {
			walks = append(walks, w)
		}
		for _, s := range w.Steps {
			wanted[s.Chain] = true
		}
		for _, o := range w.Outcomes {
			for _, c := range o.Chains {
				wanted[c] = true
			}
		}
	}
	for i, c := range hop.Chains {
		if len(wanted) == 0 || wanted[c.Name] || c.Drift != "" {
			idx = append(idx, i)
		}
	}
	return idx, walks
}

// SetSize implements common.Page: a header line, the rows, and a pane
// with the selected rule in full.
func (p *Page) SetSize(width, height int) {
	p.Common.SetSize(width, height)
	p.list.SetSize(width, height-1-p.detailHeight())
}

// detailHeight is a fifth of the screen, at least two lines when the
// header leaves them.
func (p *Page) detailHeight() int { return max(0, min(p.Height-1, max(2, min(5, p.Height/5)))) }

// Update implements common.Page.
func (p *Page) Update(msg tea.Msg) tea.Cmd {
	if p.list.Update(msg) {
		return nil
	}
	k, ok := msg.(tea.KeyMsg)
	if !ok || len(p.choices) == 0 {
		return nil
	}
	switch {
	case key.Matches(k, p.follow):
		p.followJump()
	case key.Matches(k, p.retreat):
		p.goBack()
	case key.Matches(k, p.KeyMap.NextView):
		p.choose((p.choice + 1) % len(p.choices))
	case key.Matches(k, p.KeyMap.PrevView):
		p.choose((p.choice + len(p.choices) - 1) % len(p.choices))
	}
	return nil
}

// followJump moves from a rule to the header of the chain it jumps to, the
// way a packet goes from KUBE-SERVICES to KUBE-SVC to KUBE-SEP.
func (p *Page) followJump() {
	i := p.list.Cursor()
	if i < 0 || p.rows[i].rule < 0 {
		return
	}
	chains := p.hop().Chains
	text := chains[p.rows[i].chain].Rules[p.rows[i].rule].Text
	for j, r := range p.rows {
		if r.rule < 0 && r.chain != p.rows[i].chain && rules.JumpsTo(text, chains[r.chain].Name) {
			p.back = append(p.back, p.rows[i])
			p.list.SetCursor(j)
			return
		}
	}
}

// Retraces reports whether esc has something to do here: clear a filter
// or go back along the jumps followed.
func (p *Page) Retraces() bool { return p.list.Active() || len(p.back) > 0 }

// goBack returns to the rule the last jump was followed from.
func (p *Page) goBack() {
	if len(p.back) == 0 {
		return
	}
	from := p.back[len(p.back)-1]
	p.back = p.back[:len(p.back)-1]
	for j, r := range p.rows {
		if r == from {
			p.list.SetCursor(j)
			return
		}
	}
}

func (p *Page) hop() trace.DataplaneHop { return p.hops.Dataplane[p.choices[p.choice].hop] }

func (p *Page) choose(i int) {
	p.choice = i
	p.apply()
	p.list.SetCursor(0)
}

// View implements common.Page.
func (p *Page) View() string {
	if len(p.choices) == 0 {
		return common.Fit([]string{"", "  no dataplane rules in this trace",
			p.Styles.Dim.Render("  they come from a node's ruleset dump or from the rules kube-proxy should write")}, p.Width, p.Height)
	}
	if len(p.chains) == 0 {
		hop := p.hops.Dataplane[p.choices[p.choice].hop]
		return common.Fit([]string{p.header(), "", fmt.Sprintf("  no chains listed for node %s (%s)", hop.Node, hop.Source)}, p.Width, p.Height)
	}
	dh := p.detailHeight()
	return common.Stack(common.Block{View: p.header(), Height: min(1, p.Height)},
		common.Block{View: p.list.View(), Height: p.Height - 1 - dh},
		common.Block{View: p.detail(), Height: dh})
}

func (p *Page) header() string {
	ch := p.choices[p.choice]
	hop := p.hops.Dataplane[ch.hop]
	s := fmt.Sprintf("node %s · %s · %s", hop.Node, hop.Mode, hop.Source)
	if ch.port != "" {
		s += " · port " + ch.port
	}
	if len(p.choices) > 1 {
		s += p.Styles.Dim.Render(fmt.Sprintf("   [/] view %d/%d", p.choice+1, len(p.choices)))
	}
	return common.Truncate(p.Styles.Bold.Render(s), p.Width)
}

func (p *Page) detail() string {
	var lines []string
	if i := p.list.Cursor(); i >= 0 {
		r := p.rows[i]
		c := p.hops.Dataplane[p.choices[p.choice].hop].Chains[r.chain]
		if r.rule >= 0 {
			rl := c.Rules[r.rule]
			// Generated rules have no line; the sticky mark leads the
			// text, which is long while the pane is short.
			var head []string
			if rl.Line > 0 {
				head = append(head, fmt.Sprintf("line %d", rl.Line))
			}
			if p.flow.Share(c.Name, rl.Text).Sticky {
				head = append(head, "sticky (only for clients already pinned by ClientIP affinity)")
			}
			text := rl.Text
			if len(head) > 0 {
				text = strings.Join(head, ", ") + ": " + text
			}
			if rl.Drift != "" {
				text += "  [drift " + rl.Drift + "]"
			}
			lines = append(lines, common.Wrap(text, p.Width)...)
		} else {
			name := c.Name
			if c.Table != "" {
				name = c.Table + " " + c.Name
			}
			text := fmt.Sprintf("chain %s: %s", name, rules.RuleCount(len(c.Rules)))
			if c.Drift != "" {
				text += "  [drift " + c.Drift + "]"
			}
			lines = append(lines, common.Wrap(text, p.Width)...)
		}
	}
	return p.Styles.Pane(lines, p.Width, p.detailHeight())
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
	c := p.hops.Dataplane[p.choices[p.choice].hop].Chains[r.chain]
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
	sh := p.flow.Share(c.Name, rl.Text)
	line := rules.Line(p.Styles, rl, sh, false, width-1)
	if selected {
		return p.Styles.Selected.Render(cursor + common.Plain(line))
	}
	return cursor + line
}
