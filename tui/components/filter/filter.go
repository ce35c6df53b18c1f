// Package filter is the one-line query editor opened with "/". It has no
// blinking cursor so screens stay the same from one frame to the next.
package filter

import (
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// Model is the query and whether it is being edited.
type Model struct {
	common.Common
	query   string
	editing bool
}

// New returns an empty, closed filter.
func New(c common.Common) *Model { return &Model{Common: c} }

// Query is the current text, lower-cased for matching.
func (m *Model) Query() string { return strings.ToLower(m.query) }

// Editing reports whether keys go to the filter.
func (m *Model) Editing() bool { return m.editing }

// Active reports whether a query narrows the list.
func (m *Model) Active() bool { return m.query != "" }

// Match reports whether s contains the query, ignoring case. It runs for
// every row of a 200,000-rule dump on each keystroke, so the common ASCII
// case folds in place instead of lower-casing a copy of s.
func (m *Model) Match(s string) bool {
	q := m.Query()
	if q == "" {
		return true
	}
	for i := 0; i < len(q); i++ {
		if q[i] >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), q)
		}
	}
	return containsFoldASCII(s, q)
}

// containsFoldASCII reports whether s contains sub, an ASCII lower-case
// string, with ASCII letters of s compared case-insensitively.
func containsFoldASCII(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for ; j < len(sub); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// Update handles "/" to open, text editing, enter to keep the query and esc
// to drop it. changed says the query differs, so the page re-filters.
func (m *Model) Update(msg tea.Msg) (used, changed bool) {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return false, false
	}
	if !m.editing {
		switch {
		case key.Matches(k, m.KeyMap.Filter):
			m.editing = true
			return true, false
		case key.Matches(k, m.KeyMap.Back) && m.query != "":
			m.query = ""
			return true, true
		}
		return false, false
	}
	before := m.query
	switch k.Type {
	case tea.KeyEnter:
		m.editing = false
	case tea.KeyEsc:
		m.editing, m.query = false, ""
	case tea.KeyBackspace:
		if r := []rune(m.query); len(r) > 0 {
			m.query = string(r[:len(r)-1])
		}
	case tea.KeyCtrlU:
		m.query = ""
	case tea.KeyRunes, tea.KeySpace:
		m.query += string(k.Runes)
	}
	return true, m.query != before
}

// View is the filter line cut to Width, empty when there is nothing to
// show.
func (m *Model) View() string {
	switch {
	case m.editing:
		return common.Truncate(m.Styles.Key.Render("/")+m.query+"_", m.Width)
	case m.query != "":
		return common.Truncate(m.Styles.Dim.Render("filter: "+m.query+"  (esc clears)"), m.Width)
	}
	return ""
}
