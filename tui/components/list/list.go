// Package list is a cursor over rows that renders only the rows on screen,
// so a list of a million rows costs what a screenful does.
package list

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// Source supplies rows on demand.
type Source interface {
	Len() int
	// Row renders row i within width cells; selected marks the cursor row.
	Row(i, width int, selected bool) string
}

// wheelStep is how many rows one mouse wheel notch scrolls.
const wheelStep = 3

// Model is the cursor and the scroll offset over a Source.
type Model struct {
	common.Common
	src    Source
	cursor int
	offset int
}

// New returns an empty list.
func New(c common.Common) *Model {
	return &Model{Common: c}
}

// SetSource replaces the rows, keeping the cursor index within range.
func (m *Model) SetSource(s Source) {
	m.src = s
	m.SetCursor(m.cursor)
}

// Len is the number of rows.
func (m *Model) Len() int {
	if m.src == nil {
		return 0
	}
	return m.src.Len()
}

// Cursor is the selected row, or -1 when the list is empty.
func (m *Model) Cursor() int {
	if m.Len() == 0 {
		return -1
	}
	return m.cursor
}

// SetSize sets the visible rows and their width.
func (m *Model) SetSize(width, height int) {
	m.Common.SetSize(width, height)
	m.SetCursor(m.cursor)
}

// SetCursor selects row i (clamped) and scrolls it into view.
func (m *Model) SetCursor(i int) {
	n := m.Len()
	m.cursor = max(0, min(i, n-1))
	h := max(1, m.Height)
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, n-h))
}

// Scroll moves the view by delta rows, dragging the cursor along only when
// it would leave the screen, as terminals do with the wheel.
func (m *Model) Scroll(delta int) {
	n, h := m.Len(), max(1, m.Height)
	m.offset = max(0, min(m.offset+delta, n-h))
	m.cursor = max(m.offset, min(m.cursor, m.offset+h-1))
	m.cursor = max(0, min(m.cursor, n-1))
}

// Update moves the cursor for the navigation keys and the mouse wheel and
// reports whether it used msg.
func (m *Model) Update(msg tea.Msg) bool {
	km := m.KeyMap
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, km.Up):
			m.SetCursor(m.cursor - 1)
		case key.Matches(msg, km.Down):
			m.SetCursor(m.cursor + 1)
		case key.Matches(msg, km.PageUp):
			m.SetCursor(m.cursor - max(1, m.Height-1))
		case key.Matches(msg, km.PageDown):
			m.SetCursor(m.cursor + max(1, m.Height-1))
		case key.Matches(msg, km.Home):
			m.SetCursor(0)
		case key.Matches(msg, km.End):
			m.SetCursor(m.Len() - 1)
		default:
			return false
		}
		return true
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelUp:
			m.Scroll(-wheelStep)
		case tea.MouseButtonWheelDown:
			m.Scroll(wheelStep)
		default:
			return false
		}
		return true
	}
	return false
}

// View renders exactly Height lines.
func (m *Model) View() string {
	lines := make([]string, 0, m.Height)
	for i := m.offset; i < m.Len() && len(lines) < m.Height; i++ {
		lines = append(lines, m.src.Row(i, m.Width, i == m.cursor))
	}
	for len(lines) < m.Height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}
