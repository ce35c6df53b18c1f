package list

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// rows is a Source of n numbered rows that counts how many it drew.
type rows struct {
	n     int
	drawn int
}

func (r *rows) Len() int { return r.n }

func (r *rows) Row(i, _ int, selected bool) string {
	r.drawn++
	if selected {
		return fmt.Sprintf(">%d", i)
	}
	return fmt.Sprint(i)
}

func press(s string) tea.Msg {
	switch s {
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "wheeldown":
		return tea.MouseMsg{Button: tea.MouseButtonWheelDown}
	case "wheelup":
		return tea.MouseMsg{Button: tea.MouseButtonWheelUp}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

func TestNavigation(t *testing.T) {
	tests := []struct {
		name        string
		n           int
		keys        []string
		cursor, top int
	}{
		{"empty list", 0, []string{"j", "G"}, -1, 0},
		{"down", 100, []string{"j", "j"}, 2, 0},
		{"up stops at the top", 100, []string{"k"}, 0, 0},
		{"down scrolls at the bottom edge", 100, []string{"j", "j", "j", "j", "j"}, 5, 1},
		{"end", 100, []string{"G"}, 99, 95},
		{"end then home", 100, []string{"G", "g"}, 0, 0},
		{"page down keeps one row of context", 100, []string{"pgdown"}, 4, 0},
		{"page up from the end", 100, []string{"G", "pgup"}, 95, 95},
		{"wheel scrolls the view, dragging the cursor", 100, []string{"wheeldown"}, 3, 3},
		{"wheel up stops at the top", 100, []string{"wheeldown", "wheelup", "wheelup"}, 3, 0},
		{"wheel down stops at the end", 7, []string{"wheeldown", "wheeldown"}, 2, 2},
		{"short list never scrolls", 3, []string{"G"}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(common.Common{KeyMap: common.DefaultKeyMap()})
			m.SetSize(10, 5)
			m.SetSource(&rows{n: tt.n})
			for _, k := range tt.keys {
				if !m.Update(press(k)) {
					t.Fatalf("key %q not used", k)
				}
			}
			if m.Cursor() != tt.cursor || m.offset != tt.top {
				t.Errorf("cursor %d top %d, want %d %d", m.Cursor(), m.offset, tt.cursor, tt.top)
			}
		})
	}
}

// TestViewDrawsOnlyVisibleRows is what keeps a million-row list cheap.
func TestViewDrawsOnlyVisibleRows(t *testing.T) {
	src := &rows{n: 1_000_000}
	m := New(common.Common{KeyMap: common.DefaultKeyMap()})
	m.SetSize(10, 5)
	m.SetSource(src)
	m.SetCursor(500_000)
	got := m.View()
	if want := "499996\n499997\n499998\n499999\n>500000"; got != want {
		t.Errorf("view %q, want %q", got, want)
	}
	if src.drawn != 5 {
		t.Errorf("drew %d rows for a 5-row view", src.drawn)
	}
}

func TestViewPadsToHeight(t *testing.T) {
	m := New(common.Common{KeyMap: common.DefaultKeyMap()})
	m.SetSize(10, 4)
	m.SetSource(&rows{n: 2})
	if got := strings.Count(m.View(), "\n"); got != 3 {
		t.Errorf("view of 2 rows in 4 lines has %d newlines", got)
	}
}

func TestShrinkingSourceClampsCursor(t *testing.T) {
	m := New(common.Common{KeyMap: common.DefaultKeyMap()})
	m.SetSize(10, 5)
	m.SetSource(&rows{n: 100})
	m.SetCursor(80)
	m.SetSource(&rows{n: 10})
	if m.Cursor() != 9 || m.offset != 5 {
		t.Errorf("cursor %d top %d after shrinking to 10 rows, want 9 5", m.Cursor(), m.offset)
	}
}
