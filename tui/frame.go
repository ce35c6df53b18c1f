package tui

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"github.com/svctrace/kubectl-svctrace/tui/common"
)

// tabs is the top line: the Service and the screens, the active one in
// brackets. The active tab must always show, so a narrow terminal first
// drops the "svctrace" prefix, then shortens the other tabs to initials,
// then leaves them out.
func (m *model) tabs() string {
	st := m.Styles
	svc := m.hops.Service.Namespace + "/" + m.hops.Service.Name
	titles := []string{"svctrace " + svc, svc}
	full, initials, active := []string{}, []string{}, ""
	for i, p := range m.pages {
		if i == m.active {
			active = st.TabActive.Render("[" + p.Title() + "]")
			full, initials = append(full, active), append(initials, active)
			continue
		}
		full = append(full, st.TabInactive.Render(" "+p.Title()+" "))
		initials = append(initials, st.TabInactive.Render(initialsOf(p.Title())))
	}
	only := fmt.Sprintf("%s %s", active, st.Dim.Render(fmt.Sprintf("%d/%d", m.active+1, len(m.pages))))
	for _, tabs := range []string{strings.Join(full, " "), strings.Join(initials, " "), only} {
		for _, title := range titles {
			line := st.Title.Render(title) + " " + tabs
			if ansi.StringWidth(line) <= m.Width {
				return line
			}
		}
	}
	// Too narrow for the Service name: cut it, never the tab.
	room := m.Width - ansi.StringWidth(only) - 1
	if room < 4 {
		return common.Truncate(only, m.Width)
	}
	return common.Truncate(st.Title.Render(svc), room) + " " + only
}

// initialsOf shortens a tab title to the first letter of each word, keeping
// numbers whole: "Packet walk" is PW, "Findings 3" is F3.
func initialsOf(title string) string {
	var b strings.Builder
	for _, w := range strings.Fields(title) {
		r := []rune(w)
		if unicode.IsDigit(r[0]) {
			b.WriteString(w)
			continue
		}
		b.WriteRune(unicode.ToUpper(r[0]))
	}
	return b.String()
}

func (m *model) footer() string {
	if m.status != "" {
		s := m.Styles.Status
		if strings.HasPrefix(m.status, "reload failed") {
			s = m.Styles.Error
		}
		return common.Truncate(s.Render(m.status), m.Width)
	}
	keys := append([]key.Binding{m.KeyMap.Help, m.KeyMap.NextTab}, m.pages[m.active].Bindings()...)
	// help adds a key past Width when its ellipsis would not fit either.
	return common.Truncate(m.help.ShortHelpView(keys), m.Width)
}

// helpWide is the width from which key groups go two side by side.
const helpWide = 80

// helpLines is the whole help screen. Narrow terminals get one key a line,
// the keys needed to get around first, so that they show even when the
// rest has to be scrolled to.
func (m *model) helpLines() []string {
	lines := []string{m.Styles.Title.Render("Keys") + m.Styles.Dim.Render("  ↑/↓ scroll, any other key closes")}
	if m.Width < helpWide {
		km := m.KeyMap
		first := []key.Binding{km.Help, km.Quit, km.NextTab, km.Filter, km.Back, km.Refresh, km.StepNext, km.StepPrev, km.Enter, km.PrevTab}
		seen := map[string]bool{}
		var all []key.Binding
		for _, b := range first {
			all, seen[b.Help().Key] = append(all, b), true
		}
		for _, g := range km.FullHelp() {
			for _, b := range g {
				if !seen[b.Help().Key] {
					all, seen[b.Help().Key] = append(all, b), true
				}
			}
		}
		keyW := 0
		for _, b := range all {
			keyW = max(keyW, ansi.StringWidth(b.Help().Key))
		}
		for _, b := range all {
			h := b.Help()
			lines = append(lines, m.Styles.Key.Render(fmt.Sprintf("%-*s", keyW, h.Key))+" "+m.Styles.Dim.Render(h.Desc))
		}
		return lines
	}
	lines = append(lines, "")
	// Two groups side by side fit 80 columns; the rest go below.
	groups := m.KeyMap.FullHelp()
	for i := 0; i < len(groups); i += 2 {
		lines = append(lines, strings.Split(m.help.FullHelpView(groups[i:min(i+2, len(groups))]), "\n")...)
		lines = append(lines, "")
	}
	return lines
}

func (m *model) helpView() string {
	lines := m.helpLines()
	return common.Fit(lines[min(m.helpTop, len(lines)-1):], m.Width, m.Height-2)
}
