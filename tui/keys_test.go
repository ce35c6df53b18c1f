package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestChainsEscReturnsFromJump follows two jumps and retraces them.
func TestChainsEscReturnsFromJump(t *testing.T) {
	m := testModel(t, Config{})
	press(m, keys("tab", "tab", "j", "j", "j", "j", "j", "enter", "j", "j", "l")...)
	if !strings.Contains(m.View(), "›nat "+sep1) {
		t.Fatalf("→ on the first endpoint rule did not select %s:\n%s", sep1, m.View())
	}
	steps := []struct{ key, want string }{
		{"esc", "›      61 "},
		{"h", "›      41 "},
		{"esc", "›      41 "}, // nothing left to go back to
	}
	for _, s := range steps {
		press(m, keys(s.key)...)
		if !strings.Contains(m.View(), s.want) {
			t.Errorf("after %s the cursor is not on %q:\n%s", s.key, s.want, m.View())
		}
	}
}

// TestChainsViewKeys checks [ and ] switch views (one per packet walked,
// and one for the IPv6 rules without a walk) while ← and → do not,
// and that the footer offers them only with more than one view.
func TestChainsViewKeys(t *testing.T) {
	m := testModel(t, Config{})
	press(m, keys("tab", "tab")...)
	view := func() string { return strings.SplitN(m.View(), "\n", 3)[1] }
	tests := []struct{ key, want string }{
		{"l", "view 1/3"}, {"h", "view 1/3"},
		{"]", "view 2/3"}, {"]", "view 3/3"}, {"]", "view 1/3"}, {"[", "view 3/3"},
	}
	for _, tt := range tests {
		press(m, keys(tt.key)...)
		if got := view(); !strings.Contains(got, tt.want) {
			t.Errorf("after %s the header is %q, want %q", tt.key, got, tt.want)
		}
	}
	keysShown := func() string {
		var b strings.Builder
		for _, k := range m.pages[screenChains].Bindings() {
			b.WriteString(k.Help().Key + " ")
		}
		return b.String()
	}
	if got := keysShown(); !strings.Contains(got, "[ ] ") {
		t.Errorf("three views but the keys offered are %q", got)
	}
	// One node and one packet.
	one := fullTrace(t)
	one.Dataplane = one.Dataplane[:1]
	one.Dataplane[0].Walks = one.Dataplane[0].Walks[:1]
	press(m, TraceMsgFor(one))
	if got := keysShown(); strings.Contains(got, "[") {
		t.Errorf("one view but the keys offered are %q", got)
	}
}

// TestTabBarShowsActiveTab checks that however narrow the terminal, the
// active tab is on the top line.
func TestTabBarShowsActiveTab(t *testing.T) {
	for _, width := range []int{20, 30, 40, 60, 80} {
		for tab, title := range []string{"[Path]", "[Findings 1]", "[Chains]", "[Packet walk]"} {
			m := testModel(t, Config{})
			for range tab {
				press(m, keys("tab")...)
			}
			press(m, tea.WindowSizeMsg{Width: width, Height: 12})
			top := strings.SplitN(m.View(), "\n", 2)[0]
			if !strings.Contains(top, title) {
				t.Errorf("at width %d the tab bar %q lacks %s", width, top, title)
			}
			if lipglossWidth(top) > width {
				t.Errorf("at width %d the tab bar %q is too wide", width, top)
			}
		}
	}
}

func TestInitials(t *testing.T) {
	for in, want := range map[string]string{"Path": "P", "Findings 12": "F12", "Packet walk": "PW", "": ""} {
		if got := initialsOf(in); got != want {
			t.Errorf("initialsOf(%q) = %q, want %q", in, got, want)
		}
	}
}
