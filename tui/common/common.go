// Package common holds what every screen of the terminal UI shares: the
// terminal size, styles, key map, the data shown and the messages screens
// exchange.
package common

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// Common is handed to every page and component; pages keep a copy and
// read Styles and KeyMap from it rather than from globals.
type Common struct {
	Width, Height int
	Styles        *Styles
	KeyMap        *KeyMap
}

// SetSize records the space given to the owner of c. Owners work their
// parts out by subtraction, so a small terminal can hand out negative
// sizes; they count as none.
func (c *Common) SetSize(width, height int) {
	c.Width, c.Height = max(0, width), max(0, height)
}

// Page is one screen of the UI. View returns exactly the height given to
// SetSize so the frame never jumps.
type Page interface {
	Title() string
	SetSize(width, height int)
	// SetTrace replaces the data shown, keeping the cursor on the same item
	// when it still exists.
	SetTrace(*trace.Trace)
	Update(tea.Msg) tea.Cmd
	View() string
	// Capturing reports whether the page is reading text (a filter), in
	// which case global keys such as q must reach it unchanged.
	Capturing() bool
	// Bindings are the page's own keys, for the help screen.
	Bindings() []key.Binding
}
