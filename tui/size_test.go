package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/pages/chains"
	"github.com/svctrace/kubectl-svctrace/tui/pages/findings"
	"github.com/svctrace/kubectl-svctrace/tui/pages/path"
	"github.com/svctrace/kubectl-svctrace/tui/pages/walk"
)

// tinySizes are terminals from none at all to the smallest the frame is
// drawn in.
var tinySizes = [][2]int{{0, 0}, {1, 1}, {10, 3}, {80, 5}, {80, 6}}

// tinyScreens reach every screen and state of one from 80x24.
var tinyScreens = []struct {
	name string
	keys []tea.Msg
}{
	{"path", nil},
	{"path-filter", keys("/", "tv2")},
	{"findings", keys("tab")},
	{"chains", keys("tab", "tab")},
	{"walk-picker", keys("tab", "tab", "tab")},
	{"walk-step", keys("tab", "tab", "tab", "enter", "n", "n")},
	{"walk-final", keys("tab", "tab", "tab", "enter", "G")},
	{"help", keys("?")},
}

// roam is keys and wheel notches that move every cursor and open filters,
// pressed once a screen is small.
func roam() []tea.Msg {
	msgs := keys("j", "pgdown", "G", "k", "enter", "l", "h", "n", "esc", "/", "a", "enter")
	return append(msgs, tea.MouseMsg{Button: tea.MouseButtonWheelDown}, tea.MouseMsg{Button: tea.MouseButtonWheelUp})
}

// checkFits fails when view has more lines than height or a line wider
// than width. An empty view is no lines.
func checkFits(t *testing.T, view string, width, height int) {
	t.Helper()
	var lines []string
	if view != "" {
		lines = strings.Split(view, "\n")
	}
	if len(lines) > height {
		t.Errorf("%d lines in a %dx%d terminal:\n%s", len(lines), width, height, view)
	}
	for i, l := range lines {
		if w := lipglossWidth(l); w > width {
			t.Errorf("line %d is %d wide in a %dx%d terminal: %q", i, w, width, height, l)
		}
	}
}

// TestTinyTerminal opens every screen in terminals down to 0x0, both as the
// size it started in and as a resize of a running UI, and presses keys in
// them: nothing may panic or draw past the terminal, and below the
// smallest usable size the UI says so in one line.
func TestTinyTerminal(t *testing.T) {
	for _, sc := range tinyScreens {
		for _, size := range tinySizes {
			w, h := size[0], size[1]
			for _, resizeFirst := range []bool{true, false} {
				name := fmt.Sprintf("%s/%dx%d/resize-first=%t", sc.name, w, h, resizeFirst)
				t.Run(name, func(t *testing.T) {
					m := testModel(t, Config{})
					resize := tea.WindowSizeMsg{Width: w, Height: h}
					if resizeFirst {
						press(m, resize)
					}
					press(m, sc.keys...)
					press(m, resize)
					checkFits(t, m.View(), w, h)
					for _, msg := range roam() {
						press(m, msg)
						checkFits(t, m.View(), w, h)
					}
					view := m.View()
					small := w < minWidth || h < minHeight
					switch {
					case h == 0 && view != "":
						t.Errorf("drew %q with no lines", view)
					case small && h > 0 && (strings.Contains(view, "\n") || !tooSmallMessage(view)):
						t.Errorf("want the one-line too-small message, got:\n%s", view)
					case !small && strings.Count(view, "\n")+1 != h:
						t.Errorf("want %d lines, got:\n%s", h, view)
					}
				})
			}
		}
	}
}

// TestPagesAnySize draws each screen on its own, without the frame that
// hides them in tiny terminals: a page fills exactly the lines it is given
// and no more columns, down to none.
func TestPagesAnySize(t *testing.T) {
	pages := map[string]func(common.Common, *trace.Trace) common.Page{
		"path":     func(c common.Common, h *trace.Trace) common.Page { return path.New(c, h) },
		"findings": func(c common.Common, h *trace.Trace) common.Page { return findings.New(c, h) },
		"chains":   func(c common.Common, h *trace.Trace) common.Page { return chains.New(c, h) },
		"walk":     func(c common.Common, h *trace.Trace) common.Page { return walk.New(c, h) },
	}
	traces := map[string]func(testing.TB) *trace.Trace{"full": fullTrace, "not-found": notFoundTrace, "no-dataplane": withoutDataplane}
	sizes := append([][2]int{{0, 5}, {5, 0}, {2, 2}, {80, 1}, {80, 2}, {80, 3}, {80, 4}, {130, 1}, {130, 4}}, tinySizes...)
	for pname, newPage := range pages {
		for tname, load := range traces {
			for _, size := range sizes {
				w, h := size[0], size[1]
				t.Run(fmt.Sprintf("%s/%s/%dx%d", pname, tname, w, h), func(t *testing.T) {
					c := common.Common{Styles: common.DefaultStyles(common.NewRenderer(nil, true)), KeyMap: common.DefaultKeyMap()}
					p := newPage(c, load(t))
					p.SetSize(w, h)
					checkPage(t, p.View(), w, h)
					for _, msg := range append(roam(), keys("esc", "enter", "n", "/", "x")...) {
						p.Update(msg)
						checkPage(t, p.View(), w, h)
					}
				})
			}
		}
	}
}

// checkPage fails unless view has exactly height lines, none wider than width.
func checkPage(t *testing.T, view string, width, height int) {
	t.Helper()
	checkFits(t, view, width, height)
	n := 0
	if view != "" || height > 0 {
		n = strings.Count(view, "\n") + 1
	}
	if n != height {
		t.Errorf("%d lines, want %d:\n%s", n, height, view)
	}
}

// tooSmallMessage reports whether view is the too-small message, however
// much of it fits.
func tooSmallMessage(view string) bool {
	const msg = "window too small"
	return strings.HasPrefix(view, msg) || strings.HasPrefix(msg, strings.TrimSuffix(view, "…"))
}
