// Package nodes is the screen of --all-nodes: a row per node with
// kube-proxy's mode and health, its last sync, the drift and where a
// packet to the Service ends, the nodes that disagree with the rest first.
// Enter shows the Service traced through that node's rules on the other
// screens.
package nodes

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/fleet"
	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/list"
)

// Page is the Nodes screen.
type Page struct {
	common.Common
	service string
	rows    []fleet.Row
	// shown is the node whose trace the other screens show.
	shown string
	now   func() time.Time
	list  *list.Model
}

// New returns the Nodes screen over rows, compared (fleet.Compare) and
// sorted; shown is the node the other screens start on.
func New(c common.Common, service string, rows []fleet.Row, shown string, now func() time.Time) *Page {
	p := &Page{Common: c, service: service, rows: rows, shown: shown, now: now, list: list.New(c)}
	p.list.SetSource(source{p})
	return p
}

// Title implements common.Page: how many nodes disagree with the rest.
func (p *Page) Title() string {
	n := 0
	for _, r := range p.rows {
		if r.Disagrees {
			n++
		}
	}
	return fmt.Sprintf("Nodes %d/%d", n, len(p.rows))
}

// Capturing implements common.Page.
func (p *Page) Capturing() bool { return false }

// Bindings implements common.Page.
func (p *Page) Bindings() []key.Binding {
	return []key.Binding{p.KeyMap.Up, p.KeyMap.Down, p.KeyMap.Enter}
}

// SetTrace implements common.Page: the rows stay; the node shown is
// marked.
func (p *Page) SetTrace(*trace.Trace) {}

// Show marks node as the one the other screens show.
func (p *Page) Show(node string) { p.shown = node }

// SetSize implements common.Page.
func (p *Page) SetSize(width, height int) {
	p.Common.SetSize(width, height)
	p.list.SetSize(width, max(0, height-1-p.detailHeight()))
}

func (p *Page) detailHeight() int { return min(p.Height-1, max(3, p.Height/3)) }

// OpenMsg asks the frame to show the Service through a node's rules.
type OpenMsg struct{ Node string }

// Update implements common.Page.
func (p *Page) Update(msg tea.Msg) tea.Cmd {
	if p.list.Update(msg) {
		return nil
	}
	if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, p.KeyMap.Enter) {
		if r, ok := p.selected(); ok {
			return func() tea.Msg { return OpenMsg{Node: r.Node} }
		}
	}
	return nil
}

func (p *Page) selected() (fleet.Row, bool) {
	i := p.list.Cursor()
	if i < 0 {
		return fleet.Row{}, false
	}
	return p.rows[i], true
}

// View implements common.Page.
func (p *Page) View() string {
	head := fmt.Sprintf(" %s on %d nodes; enter shows a node's trace", p.service, len(p.rows))
	return common.Stack(common.Block{View: common.Truncate(p.Styles.Bold.Render(head), p.Width), Height: 1},
		common.Block{View: p.list.View(), Height: p.Height - 1 - p.detailHeight()},
		common.Block{View: p.detail(), Height: p.detailHeight()})
}

// detail says why the selected node disagrees and lists its findings.
func (p *Page) detail() string {
	r, ok := p.selected()
	if !ok {
		return p.Styles.Pane(nil, p.Width, p.detailHeight())
	}
	var lines []string
	switch {
	case r.Error != "":
		lines = append(lines, textfmt.Wrap("not read: "+r.Error, p.Width)...)
	case len(r.Why) > 0:
		lines = append(lines, textfmt.Wrap("disagrees: "+strings.Join(r.Why, ", "), p.Width)...)
	default:
		lines = append(lines, "agrees with the other nodes")
	}
	for _, f := range r.Findings {
		lines = append(lines, common.Truncate(fmt.Sprintf("%s %s  %s", f.Severity, f.ID, f.Message), p.Width))
	}
	return p.Styles.Pane(lines, p.Width, p.detailHeight())
}

type source struct{ p *Page }

func (s source) Len() int { return len(s.p.rows) }

func (s source) Row(i, width int, selected bool) string {
	p, r := s.p, s.p.rows[i]
	st := p.Styles
	mark := st.OK.Render("✔")
	if r.Disagrees {
		mark = st.Bad.Render("✘")
	}
	shown := " "
	if r.Node == p.shown {
		shown = "•"
	}
	line := fmt.Sprintf("%s %-12s %-9s %s", shown, r.Node, orDash(r.Mode), rowStatus(r, p.now()))
	if selected {
		return st.Selected.Render(common.Truncate("›"+line, width))
	}
	return common.Truncate(mark+line, width)
}

// rowStatus is kube-proxy's health, the age of its last sync, the drift
// and where packets end.
func rowStatus(r fleet.Row, now time.Time) string {
	if r.Error != "" {
		return "not read"
	}
	parts := []string{"kube-proxy " + orDash(r.KubeProxy)}
	if r.LastSync != nil {
		parts = append(parts, "synced "+now.Sub(*r.LastSync).Round(time.Second).String()+" ago")
	}
	parts = append(parts, fmt.Sprintf("drift %d", r.Drift), orDash(r.Distribution))
	return strings.Join(parts, "  ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
