package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/svctrace/kubectl-svctrace/termsafe/termsafetest"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// tour is the keys that visit every screen and open what can be opened:
// a row, a finding, the next chain view, a packet walk stepped to its end,
// the filter and the help.
var tour = [][]tea.Msg{
	nil, keys("j"), keys("enter"), keys("G"), keys("/", "Trace", "enter"), keys("esc"),
	keys("tab"), keys("j"), keys("enter"), keys("esc"),
	keys("tab"), keys("j"), keys("]"), keys("enter"), keys("G"),
	keys("tab"), keys("enter"), keys("n"), keys("n"), keys("G"), keys("p"),
	keys("tab"), keys("?"), keys("?"),
	keys("r"),
}

// TestFramesEscapeEveryField drives the UI over a trace with control
// sequences in every field, and a reload that brings another one and then
// fails with them in its error, and fails if any frame shows one raw.
func TestFramesEscapeEveryField(t *testing.T) {
	for _, bools := range []bool{true, false} {
		for _, styled := range []bool{false, true} {
			t.Run(fmt.Sprintf("bools=%v/styled=%v", bools, styled), func(t *testing.T) {
				reloads := 0
				reload := func(context.Context) (*trace.Trace, error) {
					if reloads++; reloads > 1 {
						return nil, errors.New("api server said " + termsafetest.Payload)
					}
					return termsafetest.Filled[trace.Trace](t, bools), nil
				}
				m := newModel(t.Context(), Config{Trace: termsafetest.Filled[trace.Trace](t, bools), Reload: reload, NoColor: !styled})
				if styled {
					m.Styles.Renderer.SetColorProfile(termenv.ANSI)
				}
				press(m, tea.WindowSizeMsg{Width: 160, Height: 48})
				shown, colour := false, false
				for i, step := range append(tour, keys("r")) {
					press(m, step...)
					view := m.View()
					for _, l := range termsafetest.Leaks(view, styled) {
						t.Errorf("frame %d: control character drawn raw: %s", i, l)
					}
					shown = shown || strings.Contains(view, termsafetest.EscapedMarker)
					colour = colour || strings.Contains(view, "\x1b[")
				}
				if !shown {
					t.Errorf("no frame shows the escaped payload %q, so the test checked nothing", termsafetest.EscapedMarker)
				}
				if styled && !colour {
					t.Error("styled frames carry no colour sequence: escaping must not touch the UI's own styling")
				}
				if reloads != 2 {
					t.Errorf("%d reloads, want 2: the tour did not exercise the reloaded trace and the reload error", reloads)
				}
				if !strings.Contains(m.View(), "reload failed: api server said ^[]0;pwned^G") {
					t.Errorf("the reload error is not shown escaped:\n%s", m.View())
				}
			})
		}
	}
}
