// Package chains is the screen that lists the rules one node's proxy
// programmed for the Service, from the KUBE-SERVICES entry to the DNAT of
// each endpoint, with drift marked and each jump's share of traffic.
package chains

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/filtered"
	"github.com/svctrace/kubectl-svctrace/tui/components/rules"
)

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

// SetTrace implements common.Page, keeping the node, port, packet and
// the selected chain or rule, found again by what it is: a live update
// or r may add or drop chains above it.
func (p *Page) SetTrace(h *trace.Trace) {
	var prev choice
	var at item
	if p.choice < len(p.choices) {
		prev = p.choices[p.choice]
		at = p.itemAt(p.list.Cursor())
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
	for i := range p.rows {
		if p.itemAt(i) == at {
			p.list.SetCursor(i)
			break
		}
	}
}

// item is what a row shows, independent of where it is listed.
type item struct {
	table, chain, rule string
	header             bool
}

func (p *Page) itemAt(i int) item {
	if i < 0 || i >= len(p.rows) {
		return item{}
	}
	r := p.rows[i]
	c := p.hop().Chains[r.chain]
	if r.rule < 0 {
		return item{table: c.Table, chain: c.Name, header: true}
	}
	return item{table: c.Table, chain: c.Name, rule: c.Rules[r.rule].Text}
}

// apply selects the chains of the current choice and the rows that pass
// the filter.
func (p *Page) apply() {
	p.chains, p.rows, p.flow, p.back = p.chains[:0], p.rows[:0], rules.Flow{}, p.back[:0]
	if len(p.choices) == 0 {
		p.list.SetSource(source{p})
		return
	}
	ch := p.choices[p.choice]
	p.chains = p.shown(ch, p.chains)
	hop := p.hop()
	if ch.walk >= 0 {
		p.flow = rules.FlowOf(hop.Walks[ch.walk])
	}
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

// headerHeight is the node line and the packet line.
const headerHeight = 2

// SetSize implements common.Page: the header, the rows, and a pane with
// the selected rule in full.
func (p *Page) SetSize(width, height int) {
	p.Common.SetSize(width, height)
	p.list.SetSize(width, height-headerHeight-p.detailHeight())
}

// detailHeight is a fifth of the screen, at least two lines when the
// header leaves them.
func (p *Page) detailHeight() int {
	return max(0, min(p.Height-headerHeight, max(2, min(5, p.Height/5))))
}

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
