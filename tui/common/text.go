package common

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
)

// Truncate cuts s to width cells, marking the cut with an ellipsis.
func Truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	return ansi.Truncate(s, width, "…")
}

// Width is the number of cells s takes on screen.
func Width(s string) int { return ansi.StringWidth(s) }

// Fit returns exactly height lines: lines beyond it are dropped and missing
// ones are blank, so panes line up whatever their content.
func Fit(lines []string, width, height int) string {
	if height <= 0 {
		return ""
	}
	out := make([]string, height)
	for i := range out {
		if i < len(lines) {
			out[i] = Truncate(lines[i], width)
		}
	}
	return strings.Join(out, "\n")
}

// Block is a part of a screen and the number of lines it was given.
type Block struct {
	View   string
	Height int
}

// Stack joins blocks top to bottom, leaving out those given no lines: a
// part squeezed to nothing renders as "", which would otherwise still
// take a line.
func Stack(blocks ...Block) string {
	parts := make([]string, 0, len(blocks))
	for _, b := range blocks {
		if b.Height > 0 {
			parts = append(parts, b.View)
		}
	}
	return strings.Join(parts, "\n")
}

// Pane is a details pane: a rule across width over lines, in exactly
// height lines, so it sits under a list of any length.
func (s *Styles) Pane(lines []string, width, height int) string {
	rule := s.Dim.Render(strings.Repeat("─", max(0, width)))
	return Fit(append([]string{rule}, lines...), width, height)
}

// Symbol is the state mark shared by all screens; it carries meaning
// without colour.
func (s *Styles) Symbol(ok bool) string {
	if ok {
		return s.OK.Render(textfmt.MarkOK)
	}
	return s.Bad.Render(textfmt.MarkBad)
}

// Plain drops styling, for rows drawn in a single style such as the
// cursor row, where inner colours would end the outer one.
func Plain(s string) string { return ansi.Strip(s) }
