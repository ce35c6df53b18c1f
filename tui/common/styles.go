package common

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are built from one renderer so that NoColor switches every style
// off at once, including those of the help bubble.
type Styles struct {
	Renderer *lipgloss.Renderer

	Title       lipgloss.Style
	TabActive   lipgloss.Style
	TabInactive lipgloss.Style
	Selected    lipgloss.Style
	Dim         lipgloss.Style
	Bold        lipgloss.Style
	OK          lipgloss.Style
	Bad         lipgloss.Style
	Warn        lipgloss.Style
	Info        lipgloss.Style
	Drift       lipgloss.Style
	Current     lipgloss.Style
	PaneTitle   lipgloss.Style
	Bar         lipgloss.Style
	Key         lipgloss.Style
	Status      lipgloss.Style
	Error       lipgloss.Style
}

// NewRenderer returns a renderer for w; with noColor it emits no escape
// codes at all, which also makes screens comparable in tests.
func NewRenderer(w io.Writer, noColor bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(w)
	if noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	return r
}

// DefaultStyles uses the 16 basic colours so the terminal's theme decides
// the exact shades.
func DefaultStyles(r *lipgloss.Renderer) *Styles {
	c := func(s string) lipgloss.Color { return lipgloss.Color(s) }
	return &Styles{
		Renderer:    r,
		Title:       r.NewStyle().Bold(true),
		TabActive:   r.NewStyle().Bold(true).Reverse(true),
		TabInactive: r.NewStyle().Foreground(c("8")),
		Selected:    r.NewStyle().Reverse(true),
		Dim:         r.NewStyle().Foreground(c("8")),
		Bold:        r.NewStyle().Bold(true),
		OK:          r.NewStyle().Foreground(c("2")),
		Bad:         r.NewStyle().Foreground(c("1")),
		Warn:        r.NewStyle().Foreground(c("3")),
		Info:        r.NewStyle().Foreground(c("6")),
		Drift:       r.NewStyle().Foreground(c("1")).Bold(true),
		Current:     r.NewStyle().Foreground(c("3")).Bold(true),
		PaneTitle:   r.NewStyle().Foreground(c("6")).Bold(true),
		Bar:         r.NewStyle().Foreground(c("4")),
		Key:         r.NewStyle().Foreground(c("6")),
		Status:      r.NewStyle().Foreground(c("8")),
		Error:       r.NewStyle().Foreground(c("1")).Bold(true),
	}
}
