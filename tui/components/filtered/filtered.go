// Package filtered is a list with the "/" filter line under it, as every
// list screen has: the filter sees keys before the list, a changed query
// has the page rebuild its rows, and the list gives the filter line its row
// while the line shows.
package filtered

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/filter"
	"github.com/svctrace/kubectl-svctrace/tui/components/list"
)

// Model is the list and its filter; Width and Height are the space of both.
type Model struct {
	common.Common
	list     *list.Model
	filter   *filter.Model
	refilter func()
}

// New returns an empty list with a closed filter. refilter runs when the
// query changes: it rebuilds the rows (SetSource) and places the cursor.
func New(c common.Common, refilter func()) *Model {
	return &Model{Common: c, list: list.New(c), filter: filter.New(c), refilter: refilter}
}

// SetSize gives the list what the filter line leaves.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.filter.SetSize(width, 1)
	if m.filter.Editing() || m.filter.Active() {
		height--
	}
	m.list.SetSize(width, height)
}

// Update hands msg to the filter, then to the list, and reports whether
// either used it.
func (m *Model) Update(msg tea.Msg) bool {
	if used, changed := m.filter.Update(msg); used {
		if changed {
			m.refilter()
		}
		// The filter line may have opened or closed.
		m.SetSize(m.Width, m.Height)
		return true
	}
	return m.list.Update(msg)
}

// View is the list and, when there is one, the filter line under it; a
// single line is the filter's, so the query being typed stays in sight.
func (m *Model) View() string {
	if !m.filter.Editing() && !m.filter.Active() {
		return m.list.View()
	}
	return common.Stack(common.Block{View: m.list.View(), Height: m.list.Height},
		common.Block{View: m.filter.View(), Height: min(1, m.Height)})
}

// Capturing reports whether keys go to the filter, for common.Page.
func (m *Model) Capturing() bool { return m.filter.Editing() }

// Match reports whether s passes the filter.
func (m *Model) Match(s string) bool { return m.filter.Match(s) }

// Active reports whether a query narrows the rows.
func (m *Model) Active() bool { return m.filter.Active() }

// ClearFilter drops the query and gives the list back the filter line's
// row; it does not rebuild the rows (the caller does that).
func (m *Model) ClearFilter() {
	m.filter = filter.New(m.Common)
	m.SetSize(m.Width, m.Height)
}

// SetSource replaces the rows, keeping the cursor index within range.
func (m *Model) SetSource(s list.Source) { m.list.SetSource(s) }

// Cursor is the selected row, or -1 when the list is empty.
func (m *Model) Cursor() int { return m.list.Cursor() }

// SetCursor selects row i (clamped) and scrolls it into view.
func (m *Model) SetCursor(i int) { m.list.SetCursor(i) }
