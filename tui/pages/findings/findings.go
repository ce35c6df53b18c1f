// Package findings is the screen that lists every finding with its
// severity, subject and hint; enter opens the finding's subject where it
// is shown: the Path screen, or Chains for the dataplane's.
package findings

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/filtered"
)

// Page is the Findings screen.
type Page struct {
	common.Common
	all   []trace.Finding
	shown []int
	list  *filtered.Model
}

// New returns the Findings screen over h.
func New(c common.Common, h *trace.Trace) *Page {
	p := &Page{Common: c}
	p.list = filtered.New(c, func() { p.apply(); p.list.SetCursor(0) })
	p.SetTrace(h)
	return p
}

// Title implements common.Page; the count tells at a glance if it is worth a look.
func (p *Page) Title() string { return fmt.Sprintf("Findings %d", len(p.all)) }

// Capturing implements common.Page.
func (p *Page) Capturing() bool { return p.list.Capturing() }

// Bindings implements common.Page.
func (p *Page) Bindings() []key.Binding {
	return []key.Binding{p.KeyMap.Up, p.KeyMap.Down, p.KeyMap.Enter, p.KeyMap.Filter}
}

// SetTrace implements common.Page, keeping the same finding selected.
func (p *Page) SetTrace(h *trace.Trace) {
	prev, ok := p.Selected()
	p.all = h.Findings
	p.apply()
	if !ok {
		return
	}
	for i, fi := range p.shown {
		if f := p.all[fi]; f.ID == prev.ID && f.Subject == prev.Subject {
			p.list.SetCursor(i)
		}
	}
}

// Selected is the finding under the cursor.
func (p *Page) Selected() (trace.Finding, bool) {
	i := p.list.Cursor()
	if i < 0 || i >= len(p.shown) {
		return trace.Finding{}, false
	}
	return p.all[p.shown[i]], true
}

func (p *Page) apply() {
	p.shown = p.shown[:0]
	for i, f := range p.all {
		if p.list.Match(string(f.Severity) + " " + f.ID + " " + f.Subject + " " + f.Message + " " + f.Hint) {
			p.shown = append(p.shown, i)
		}
	}
	p.list.SetSource(source{p})
	// The details take the rows the list no longer needs.
	p.SetSize(p.Width, p.Height)
}

// SetSize implements common.Page.
func (p *Page) SetSize(width, height int) {
	p.Common.SetSize(width, height)
	p.list.SetSize(width, height-p.detailHeight())
}

// detailHeight is half the screen, at least four lines when the screen
// has them, and whatever the list leaves unused (one line is kept for the
// filter), so that a small screen shows more of the finding.
func (p *Page) detailHeight() int {
	return min(p.Height, max(4, min(9, p.Height/2), p.Height-len(p.shown)-1))
}

// OpenMsg asks the frame to show the subject of a finding.
type OpenMsg struct{ Finding trace.Finding }

// Update implements common.Page.
func (p *Page) Update(msg tea.Msg) tea.Cmd {
	if p.list.Update(msg) {
		return nil
	}
	if k, ok := msg.(tea.KeyMsg); ok && key.Matches(k, p.KeyMap.Enter) {
		if f, ok := p.Selected(); ok {
			return func() tea.Msg { return OpenMsg{Finding: f} }
		}
	}
	return nil
}

// View implements common.Page.
func (p *Page) View() string {
	if len(p.all) == 0 {
		return common.Fit([]string{"", "  " + p.Styles.OK.Render("✔") + " no findings: the Service is wired end to end"}, p.Width, p.Height)
	}
	return common.Stack(common.Block{View: p.list.View(), Height: p.Height - p.detailHeight()},
		common.Block{View: p.detail(), Height: p.detailHeight()})
}

// detail is the finding in full: its ID and subject, the message and the
// hint, each wrapped. When the pane is too short the message gives way
// first, since the hint is what to do next; whatever is cut ends in "…".
func (p *Page) detail() string {
	f, ok := p.Selected()
	if !ok {
		return p.Styles.Pane(nil, p.Width, p.detailHeight())
	}
	room := p.detailHeight() - 1 // under the pane's rule
	head := []string{f.ID + "  " + f.Subject}
	if common.Width(head[0]) > p.Width {
		head = textfmt.Wrap(head[0], p.Width)
	}
	var hint []string
	for i, l := range textfmt.Wrap(f.Hint, p.Width-2) {
		prefix := "  "
		if i == 0 {
			prefix = "→ "
		}
		hint = append(hint, prefix+l)
	}
	msg := textfmt.Wrap(f.Message, p.Width-2)
	// Keep one line of the head, then the hint, then as much of the
	// message and the rest of the head as is left.
	head = clip(head, max(1, room-len(hint)-min(1, len(msg))))
	hint = clip(hint, room-len(head))
	msg = clip(msg, room-len(head)-len(hint))
	lines := make([]string, 0, max(0, room))
	for _, l := range head {
		lines = append(lines, p.Styles.Bold.Render(l))
	}
	lines = append(lines, msg...)
	for _, l := range hint {
		lines = append(lines, p.Styles.Info.Render(l))
	}
	return p.Styles.Pane(lines, p.Width, p.detailHeight())
}

// clip keeps the first n lines, marking a cut with "…" on the last one.
func clip(lines []string, n int) []string {
	if n <= 0 {
		return nil
	}
	if len(lines) <= n {
		return lines
	}
	out := append([]string(nil), lines[:n]...)
	out[n-1] = strings.TrimRight(out[n-1], " ") + "…"
	return out
}

type source struct{ p *Page }

func (s source) Len() int { return len(s.p.shown) }

func (s source) Row(i, width int, selected bool) string {
	f, st := s.p.all[s.p.shown[i]], s.p.Styles
	sev := severity(f.Severity)
	line := fmt.Sprintf("%-9s %s  %s  → %s", sev, f.ID, f.Subject, f.Hint)
	if selected {
		return st.Selected.Render(common.Truncate("›"+line, width))
	}
	style := st.Info
	switch f.Severity {
	case trace.SeverityError:
		style = st.Error
	case trace.SeverityWarning:
		style = st.Warn
	}
	return common.Truncate(" "+style.Render(fmt.Sprintf("%-9s", sev))+line[len(fmt.Sprintf("%-9s", sev)):], width)
}

// severity uses the same words and marks as the text output.
func severity(s trace.Severity) string {
	switch s {
	case trace.SeverityError:
		return "✘ error"
	case trace.SeverityWarning:
		return "⚠ warning"
	}
	return "ℹ info"
}
