package common

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key the UI reacts to; the help screen is generated from
// it, so a binding missing here is a binding nobody can discover.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	Left     key.Binding
	Right    key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Home     key.Binding
	End      key.Binding
	Enter    key.Binding
	NextTab  key.Binding
	PrevTab  key.Binding
	Filter   key.Binding
	Back     key.Binding
	Refresh  key.Binding
	Help     key.Binding
	Quit     key.Binding
	StepNext key.Binding
	StepPrev key.Binding
	// PrevView and NextView switch between views of one screen, such as
	// the Chains screen's nodes and ports.
	PrevView key.Binding
	NextView key.Binding
}

// DefaultKeyMap returns the bindings described in the help screen.
func DefaultKeyMap() *KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return &KeyMap{
		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		Left:     b([]string{"left", "h"}, "←/h", "collapse/prev"),
		Right:    b([]string{"right", "l"}, "→/l", "expand/next"),
		PageUp:   b([]string{"pgup", "ctrl+u"}, "pgup/ctrl+u", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d"}, "pgdn/ctrl+d", "page down"),
		Home:     b([]string{"home", "g"}, "g/home", "first"),
		End:      b([]string{"end", "G"}, "G/end", "last"),
		Enter:    b([]string{"enter"}, "enter", "open"),
		NextTab:  b([]string{"tab"}, "tab", "next screen"),
		PrevTab:  b([]string{"shift+tab"}, "shift+tab", "previous screen"),
		Filter:   b([]string{"/"}, "/", "filter"),
		Back:     b([]string{"esc"}, "esc", "back"),
		Refresh:  b([]string{"r"}, "r", "refresh"),
		Help:     b([]string{"?"}, "?", "help"),
		Quit:     b([]string{"q", "ctrl+c"}, "q/ctrl+c", "quit"),
		StepNext: b([]string{"n", " "}, "n/space", "next step"),
		StepPrev: b([]string{"p"}, "p", "previous step"),
		PrevView: b([]string{"["}, "[", "previous view"),
		NextView: b([]string{"]"}, "]", "next view"),
	}
}

// ShortHelp is the one-line reminder at the bottom of every screen.
func (k *KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.NextTab, k.Enter, k.Filter, k.Refresh, k.Help, k.Quit}
}

// FullHelp groups the bindings for the help screen.
func (k *KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Left, k.Right, k.PageUp, k.PageDown, k.Home, k.End},
		{k.Enter, k.NextTab, k.PrevTab, k.Filter, k.Back},
		{k.StepNext, k.StepPrev, k.PrevView, k.NextView},
		{k.Refresh, k.Help, k.Quit},
	}
}
