package filter

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/tui/common"
)

func typed(m *Model, s string) {
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	for _, r := range s {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		query, s string
		want     bool
	}{
		{"", "anything", true},
		{"kube-svc", "-A KUBE-SVC-ODX2UBAZM7RQWOIU", true},
		{"KUBE-sep", "-j KUBE-SEP-7MW3KEEC4RCNSIJ2", true},
		{"odx3", "-A KUBE-SVC-ODX2UBAZM7RQWOIU", false},
		{"rqwoiu", "-A KUBE-SVC-ODX2UBAZM7RQWOIU", true},
		{"iuu", "-A KUBE-SVC-ODX2UBAZM7RQWOIU", false},
		{"→ 10", "port 80 → 10.244.1.7", true},
		{"ÉTÉ", "été", true},
		{"x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.query+"/"+tt.s, func(t *testing.T) {
			m := New(common.Common{KeyMap: common.DefaultKeyMap()})
			typed(m, tt.query)
			if got := m.Match(tt.s); got != tt.want {
				t.Errorf("Match(%q) with query %q = %t, want %t", tt.s, tt.query, got, tt.want)
			}
		})
	}
}

func TestEditing(t *testing.T) {
	km := common.DefaultKeyMap()
	m := New(common.Common{KeyMap: km})
	if used, _ := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")}); used {
		t.Fatal("a letter was taken while the filter was closed")
	}
	typed(m, "ab")
	if _, changed := m.Update(tea.KeyMsg{Type: tea.KeyBackspace}); !changed || m.Query() != "a" {
		t.Errorf("backspace: query %q changed=%t", m.Query(), changed)
	}
	m.Update(tea.KeyMsg{Type: tea.KeyEnter})
	if m.Editing() || !m.Active() {
		t.Errorf("enter should keep the query and stop editing: editing=%t active=%t", m.Editing(), m.Active())
	}
	if used, changed := m.Update(tea.KeyMsg{Type: tea.KeyEsc}); !used || !changed || m.Active() {
		t.Errorf("esc after enter should clear: used=%t changed=%t active=%t", used, changed, m.Active())
	}
	if used, _ := m.Update(tea.KeyMsg{Type: tea.KeyEsc}); used {
		t.Error("esc without a query was taken; it belongs to the page")
	}
}
