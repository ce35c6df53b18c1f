// Package path is the screen that shows a Service's hops as a tree, with
// the facts about the selected hop beside or below it.
package path

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/filtered"
)

// sideBySide is the width from which details go beside the tree.
const sideBySide = 120

// Page is the Path screen.
type Page struct {
	common.Common
	hops     *trace.Trace
	root     *node
	rows     []*node
	expanded map[string]bool
	list     *filtered.Model
}

// New returns the Path screen over h.
func New(c common.Common, h *trace.Trace) *Page {
	p := &Page{Common: c, expanded: map[string]bool{}}
	p.list = filtered.New(c, p.refilter)
	p.SetTrace(h)
	return p
}

// Title implements common.Page.
func (p *Page) Title() string { return "Path" }

// Capturing implements common.Page.
func (p *Page) Capturing() bool { return p.list.Capturing() }

// Bindings implements common.Page.
func (p *Page) Bindings() []key.Binding {
	km := p.KeyMap
	return []key.Binding{km.Up, km.Down, km.Left, km.Right, km.Enter, km.Filter}
}

// SetTrace rebuilds the tree and puts the cursor back on the same key, or,
// when that item is gone (a deleted pod, a vanished endpoint), on its
// nearest neighbour that is still there, a sibling first.
func (p *Page) SetTrace(h *trace.Trace) {
	cur := p.Selected()
	fallback := p.neighbours()
	p.hops = h
	p.root = build(h)
	p.restoreExpanded(p.root)
	p.refresh()
	if cur == nil || p.selectKey(cur.key) {
		return
	}
	for _, k := range fallback {
		if p.selectKey(k) {
			return
		}
	}
}

// neighbours lists the keys of the rows around the cursor, nearest first,
// the selected row's siblings before the others.
func (p *Page) neighbours() []string {
	cur := p.Selected()
	if cur == nil {
		return nil
	}
	at := p.list.Cursor()
	var siblings, others []string
	for d := 1; d < len(p.rows); d++ {
		for _, i := range []int{at + d, at - d} {
			if i < 0 || i >= len(p.rows) {
				continue
			}
			if n := p.rows[i]; n.parent == cur.parent {
				siblings = append(siblings, n.key)
			} else {
				others = append(others, n.key)
			}
		}
	}
	return append(siblings, others...)
}

// restoreExpanded applies the branches the user opened or closed.
func (p *Page) restoreExpanded(n *node) {
	if e, ok := p.expanded[n.key]; ok {
		n.expanded = e
	}
	for _, c := range n.children {
		p.restoreExpanded(c)
	}
}

// Selected is the node under the cursor.
func (p *Page) Selected() *node {
	i := p.list.Cursor()
	if i < 0 || i >= len(p.rows) {
		return nil
	}
	return p.rows[i]
}

// SelectedKey is the stable key of the selected node, for tests.
func (p *Page) SelectedKey() string {
	if n := p.Selected(); n != nil {
		return n.key
	}
	return ""
}

// refresh recomputes the visible rows from expansion and filter.
func (p *Page) refresh() {
	p.rows = p.rows[:0]
	if p.list.Active() {
		p.rows = matching(p.root, p.list.Match, p.rows)
	} else {
		p.rows = visible(p.root, p.rows)
	}
	p.list.SetSource(rowSource{p})
}

func visible(n *node, out []*node) []*node {
	out = append(out, n)
	if n.expanded {
		for _, c := range n.children {
			out = visible(c, out)
		}
	}
	return out
}

// matching keeps nodes whose label matches and their ancestors, whatever
// is collapsed, so a filter finds an endpoint inside a closed slice.
func matching(n *node, match func(string) bool, out []*node) []*node {
	start := len(out)
	out = append(out, n)
	hit := match(n.label)
	for _, c := range n.children {
		before := len(out)
		out = matching(c, match, out)
		hit = hit || len(out) > before
	}
	if !hit {
		return out[:start]
	}
	return out
}

func (p *Page) selectKey(k string) bool {
	for i, n := range p.rows {
		if n.key == k {
			p.list.SetCursor(i)
			return true
		}
	}
	return false
}

// Jump selects the node a finding's subject names, opening its branch. A
// port-qualified subject falls back to its Service, a DNS one to the DNS hop.
func (p *Page) Jump(subject string) bool {
	var target *node
	for s := subject; s != "" && target == nil; s = parentSubject(s) {
		target = find(p.root, func(n *node) bool { return n.subject == s })
	}
	if target == nil {
		return false
	}
	p.list.ClearFilter()
	for a := target.parent; a != nil; a = a.parent {
		a.expanded = true
		p.expanded[a.key] = true
	}
	p.refresh()
	return p.selectKey(target.key)
}

func parentSubject(s string) string {
	if i := strings.LastIndexAny(s, ":."); i > 0 {
		return s[:i]
	}
	if i := strings.Index(s, "/"); i > 0 && i < len(s)-1 && s[:i] == "dns" {
		return "dns"
	}
	return ""
}

func find(n *node, ok func(*node) bool) *node {
	if ok(n) {
		return n
	}
	for _, c := range n.children {
		if f := find(c, ok); f != nil {
			return f
		}
	}
	return nil
}

// SetSize implements common.Page.
func (p *Page) SetSize(width, height int) {
	p.Common.SetSize(width, height)
	p.list.SetSize(p.treeSize())
}

// treeSize gives the tree and its filter line what the details pane leaves.
func (p *Page) treeSize() (int, int) {
	if p.Width >= sideBySide {
		return p.Width * 3 / 5, p.Height
	}
	return p.Width, p.Height - p.detailHeight()
}

// detailHeight is a third of the screen, at least three lines when the
// screen has them.
func (p *Page) detailHeight() int {
	return min(p.Height, max(3, min(8, p.Height/3)))
}

// Update implements common.Page.
func (p *Page) Update(msg tea.Msg) tea.Cmd {
	if m, ok := msg.(common.JumpMsg); ok {
		p.Jump(m.Subject)
		return nil
	}
	if p.list.Update(msg) {
		return nil
	}
	k, ok := msg.(tea.KeyMsg)
	n := p.Selected()
	if !ok || n == nil {
		return nil
	}
	switch {
	case key.Matches(k, p.KeyMap.Enter):
		p.setExpanded(n, !n.expanded)
	case key.Matches(k, p.KeyMap.Right):
		if len(n.children) > 0 && !n.expanded {
			p.setExpanded(n, true)
		} else if len(n.children) > 0 {
			p.list.SetCursor(p.list.Cursor() + 1)
		}
	case key.Matches(k, p.KeyMap.Left):
		if n.expanded && len(n.children) > 0 {
			p.setExpanded(n, false)
		} else if n.parent != nil {
			p.selectKey(n.parent.key)
		}
	}
	return nil
}

// refilter keeps the cursor on the same node when the new query still
// shows it.
func (p *Page) refilter() {
	cur := p.SelectedKey()
	p.refresh()
	if !p.selectKey(cur) {
		p.list.SetCursor(0)
	}
}

func (p *Page) setExpanded(n *node, on bool) {
	if len(n.children) == 0 || p.list.Active() {
		return
	}
	n.expanded = on
	p.expanded[n.key] = on
	p.refresh()
	p.selectKey(n.key)
}

// View implements common.Page.
func (p *Page) View() string {
	tree := p.list.View()
	w, h := p.treeSize()
	if p.Width >= sideBySide {
		if p.Height == 0 {
			return ""
		}
		// The vertical bar already parts the panes: no rule on top.
		detail := common.Fit(p.detailLines(p.Width-w-1), p.Width-w-1, p.Height)
		sep := strings.TrimSuffix(strings.Repeat("│\n", p.Height), "\n")
		return lipgloss.JoinHorizontal(lipgloss.Top, lipgloss.NewStyle().Width(w).Render(tree), p.Styles.Dim.Render(sep), detail)
	}
	dh := p.detailHeight()
	return common.Stack(common.Block{View: tree, Height: h}, common.Block{View: p.detailView(p.Width, dh), Height: dh})
}

func (p *Page) detailView(width, height int) string {
	return p.Styles.Pane(p.detailLines(width), width, height)
}

func (p *Page) detailLines(width int) []string {
	var lines []string
	for _, l := range details(p.hops, p.Selected()) {
		lines = append(lines, textfmt.Wrap(l, width)...)
	}
	return lines
}

type rowSource struct{ p *Page }

func (s rowSource) Len() int { return len(s.p.rows) }

func (s rowSource) Row(i, width int, selected bool) string {
	n, st := s.p.rows[i], s.p.Styles
	mark := "  "
	switch {
	case len(n.children) > 0 && (n.expanded || s.p.list.Active()):
		mark = "▾ "
	case len(n.children) > 0:
		mark = "▸ "
	}
	cursor := " "
	if selected {
		cursor = "›"
	}
	if selected {
		// One style over the whole row: inner colours would end the reverse.
		line := cursor + strings.Repeat("  ", n.depth) + mark + symbol(n.state) + n.label
		return st.Selected.Render(common.Truncate(line, width))
	}
	sym := symbol(n.state)
	switch n.state {
	case stateOK:
		sym = st.OK.Render(sym)
	case stateBad:
		sym = st.Bad.Render(sym)
	case stateWarn:
		sym = st.Warn.Render(sym)
	}
	return common.Truncate(cursor+strings.Repeat("  ", n.depth)+mark+sym+n.label, width)
}

// symbol marks state without relying on colour.
func symbol(s state) string {
	switch s {
	case stateOK:
		return "✔ "
	case stateBad:
		return "✘ "
	case stateWarn:
		return "◐ "
	}
	return ""
}

// Filtered reports whether a filter narrows the tree; esc then clears it.
func (p *Page) Filtered() bool { return p.list.Active() }

// VisibleKeys lists the keys of the rows on offer, in order.
func (p *Page) VisibleKeys() []string {
	out := make([]string, len(p.rows))
	for i, n := range p.rows {
		out[i] = n.key
	}
	return out
}
