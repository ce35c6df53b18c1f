package filtered

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// words is a Source over the words that pass the filter.
type words []string

func (w words) Len() int { return len(w) }

func (w words) Row(i, _ int, selected bool) string {
	if selected {
		return ">" + w[i]
	}
	return w[i]
}

// typed is s as keys pressed one at a time, \r being enter and \x1b esc.
func typed(s string) []tea.Msg {
	var out []tea.Msg
	for _, r := range s {
		k := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
		if r == '\r' || r == '\x1b' {
			k = tea.KeyMsg{Type: tea.KeyType(r)} // tea.KeyEnter, tea.KeyEsc
		}
		out = append(out, k)
	}
	return out
}

func TestModel(t *testing.T) {
	all := words{"alpha", "beta", "gamma", "delta", "epsilon"}
	tests := []struct {
		name      string
		keys      string
		view      string
		refilters int
		capturing bool
	}{
		{"list keys reach the list", "jj", "alpha\nbeta\n>gamma", 0, false},
		{"open filter takes a row", "/", ">alpha\nbeta\n/_", 0, true},
		{"typing refilters", "/ta", ">beta\ndelta\n/ta_", 2, true},
		{"keys go to the open filter, not the list", "/j", "\n\n/j_", 1, true},
		{"kept query shows its line", "/a\rj", "alpha\n>beta\nfilter: a  (esc cle…", 1, false},
		{"esc clears and gives the row back", "/m\r\x1b", ">alpha\nbeta\ngamma", 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := common.Common{Styles: common.DefaultStyles(common.NewRenderer(nil, true)), KeyMap: common.DefaultKeyMap()}
			var m *Model
			refilters := 0
			m = New(c, func() {
				refilters++
				var shown words
				for _, w := range all {
					if m.Match(w) {
						shown = append(shown, w)
					}
				}
				m.SetSource(shown)
				m.SetCursor(0)
			})
			m.SetSource(all)
			m.SetSize(20, 3)
			for _, k := range typed(tt.keys) {
				m.Update(k)
			}
			if diff := cmp.Diff(tt.view, m.View()); diff != "" {
				t.Errorf("view (-want +got):\n%s", diff)
			}
			if n := strings.Count(m.View(), "\n") + 1; n != 3 {
				t.Errorf("view has %d lines, want the 3 given", n)
			}
			if refilters != tt.refilters || m.Capturing() != tt.capturing {
				t.Errorf("refilters %d, capturing %v; want %d, %v", refilters, m.Capturing(), tt.refilters, tt.capturing)
			}
		})
	}
}

func TestUpdateReportsUse(t *testing.T) {
	m := New(common.Common{KeyMap: common.DefaultKeyMap(), Styles: common.DefaultStyles(common.NewRenderer(nil, true))}, func() {})
	m.SetSize(10, 3)
	for _, tt := range []struct {
		msg  tea.Msg
		want bool
	}{
		{typed("j")[0], true}, {typed("x")[0], false}, {typed("/")[0], true}, {typed("x")[0], true}, {tea.WindowSizeMsg{}, false},
	} {
		if got := m.Update(tt.msg); got != tt.want {
			t.Errorf("Update(%#v) = %v, want %v", tt.msg, got, tt.want)
		}
	}
}

// TestClearFilterGivesTheRowBack: after a jump clears the filter, the list
// fills the whole height again instead of keeping the filter line's row.
func TestClearFilterGivesTheRowBack(t *testing.T) {
	m := New(common.Common{KeyMap: common.DefaultKeyMap(), Styles: common.DefaultStyles(common.NewRenderer(nil, true))}, func() {})
	m.SetSource(words{"a", "b", "c", "d"})
	m.SetSize(10, 3)
	for _, k := range typed("/a") {
		m.Update(k)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	m.ClearFilter()
	m.SetSource(words{"a", "b", "c", "d"})
	if got := strings.Count(m.View(), "\n") + 1; got != 3 || strings.Contains(m.View(), "/") {
		t.Errorf("view after ClearFilter:\n%s", m.View())
	}
	if !strings.Contains(m.View(), "c") {
		t.Errorf("the list should show three rows again:\n%s", m.View())
	}
}
