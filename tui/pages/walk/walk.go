// Package walk is the screen that steps a packet through the rules, one
// evaluated rule at a time, ending with the distribution over outcomes.
package walk

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/components/filtered"
	"github.com/svctrace/kubectl-svctrace/tui/components/rules"
)

// ref names one PacketWalk of one DataplaneHop; walk -1 stands for a hop
// without walks, listed so that its Note says why.
type ref struct{ hop, walk int }

// Page is the Packet walk screen: a picker, then the stepper.
type Page struct {
	common.Common
	hops   *trace.Trace
	refs   []ref
	shown  []int
	picker *filtered.Model

	stepping bool
	cur      ref
	step     int // len(Steps) means the final distribution
	scroll   int // first line of the final distribution shown
	flow     rules.Flow
}

// New returns the Packet walk screen over h.
func New(c common.Common, h *trace.Trace) *Page {
	p := &Page{Common: c}
	p.picker = filtered.New(c, func() { p.apply(); p.picker.SetCursor(0) })
	p.SetTrace(h)
	return p
}

// Title implements common.Page.
func (p *Page) Title() string { return "Packet walk" }

// Capturing implements common.Page.
func (p *Page) Capturing() bool { return p.picker.Capturing() }

// Bindings implements common.Page.
func (p *Page) Bindings() []key.Binding {
	km := p.KeyMap
	if p.stepping {
		return []key.Binding{km.StepNext, km.StepPrev, km.Home, km.End, km.Back}
	}
	return []key.Binding{km.Up, km.Down, km.Enter, km.Filter}
}

// SetTrace implements common.Page. A walk being stepped stays open at the
// same step when the reloaded trace still has it.
func (p *Page) SetTrace(h *trace.Trace) {
	// The picker's row and the open walk are kept by node, mode and packet,
	// not by position: a reload may add or drop walks above them.
	var selected, open string
	if c := p.picker.Cursor(); p.hops != nil && c >= 0 && c < len(p.shown) {
		selected = p.walkKey(p.refs[p.shown[c]])
	}
	if p.hops != nil && p.stepping {
		open = p.walkKey(p.cur)
	}
	p.hops = h
	p.refs = p.refs[:0]
	for hi, d := range h.Dataplane {
		for wi := range d.Walks {
			p.refs = append(p.refs, ref{hi, wi})
		}
	}
	// Hops without walks come last, so enter on the first row opens a walk.
	for hi, d := range h.Dataplane {
		if len(d.Walks) == 0 {
			p.refs = append(p.refs, ref{hi, -1})
		}
	}
	p.apply()
	for i, ri := range p.shown {
		if selected != "" && p.walkKey(p.refs[ri]) == selected {
			p.picker.SetCursor(i)
			break
		}
	}
	for _, r := range p.refs {
		if open != "" && p.walkKey(r) == open {
			p.cur = r
			break
		}
	}
	if p.stepping {
		if w, ok := p.walk(); ok {
			p.step = min(p.step, len(w.Steps))
			p.flow = rules.FlowOf(w)
		} else {
			p.stepping = false
		}
	}
}

func (p *Page) apply() {
	p.shown = p.shown[:0]
	for i, r := range p.refs {
		if p.picker.Match(p.pickerLabel(r)) {
			p.shown = append(p.shown, i)
		}
	}
	p.picker.SetSource(source{p})
}

func (p *Page) walk() (dataplane.Walk, bool) {
	r := p.cur
	if r.hop >= len(p.hops.Dataplane) || r.walk < 0 || r.walk >= len(p.hops.Dataplane[r.hop].Walks) {
		return dataplane.Walk{}, false
	}
	return p.hops.Dataplane[r.hop].Walks[r.walk], true
}

// Stepping reports whether a walk is open, and at which step.
func (p *Page) Stepping() (bool, int) { return p.stepping, p.step }

// Open starts stepping through walk i of the picker's list.
func (p *Page) Open(i int) {
	if i < 0 || i >= len(p.shown) {
		return
	}
	r := p.refs[p.shown[i]]
	if r.walk < 0 {
		return
	}
	p.cur = r
	w, _ := p.walk()
	p.stepping, p.step, p.scroll, p.flow = true, 0, 0, rules.FlowOf(w)
}

// SetSize implements common.Page.
func (p *Page) SetSize(width, height int) {
	p.Common.SetSize(width, height)
	p.picker.SetSize(width, height-1)
}

// Update implements common.Page.
func (p *Page) Update(msg tea.Msg) tea.Cmd {
	if p.stepping {
		p.updateStepper(msg)
		return nil
	}
	if p.picker.Update(msg) {
		return nil
	}
	if k, ok := msg.(tea.KeyMsg); ok && (key.Matches(k, p.KeyMap.Enter) || key.Matches(k, p.KeyMap.Right)) {
		p.Open(p.picker.Cursor())
	}
	return nil
}

func (p *Page) updateStepper(msg tea.Msg) {
	w, ok := p.walk()
	if !ok {
		p.stepping = false
		return
	}
	last := len(w.Steps)
	km := p.KeyMap
	if p.step == last && p.scrollDistribution(msg) {
		return
	}
	p.scroll = 0
	switch msg := msg.(type) {
	case tea.KeyMsg:
		switch {
		case key.Matches(msg, km.StepNext, km.Right, km.Down):
			p.step = min(p.step+1, last)
		case key.Matches(msg, km.StepPrev, km.Left, km.Up):
			p.step = max(p.step-1, 0)
		case key.Matches(msg, km.Home):
			p.step = 0
		case key.Matches(msg, km.End, km.Enter):
			p.step = last
		case key.Matches(msg, km.Back):
			p.stepping = false
		}
	case tea.MouseMsg:
		switch msg.Button {
		case tea.MouseButtonWheelDown:
			p.step = min(p.step+1, last)
		case tea.MouseButtonWheelUp:
			p.step = max(p.step-1, 0)
		}
	}
}

// scrollDistribution moves the final distribution a line with ↓/j and
// ↑/k (and the wheel), which elsewhere step; ↑ at its top steps back.
func (p *Page) scrollDistribution(msg tea.Msg) bool {
	down, up := false, false
	switch msg := msg.(type) {
	case tea.KeyMsg:
		down, up = key.Matches(msg, p.KeyMap.Down), key.Matches(msg, p.KeyMap.Up)
	case tea.MouseMsg:
		down, up = msg.Button == tea.MouseButtonWheelDown, msg.Button == tea.MouseButtonWheelUp
	}
	switch {
	case down:
		if w, ok := p.walk(); ok {
			// Two lines above the distribution: the packet and its title.
			p.scroll = min(p.scroll+1, maxScroll(len(p.outcomes(w)), p.Height-2))
		}
		return true
	case up && p.scroll > 0:
		p.scroll--
		return true
	}
	return false
}

// View implements common.Page.
func (p *Page) View() string {
	if len(p.refs) == 0 {
		return common.Fit([]string{"", "  no packet walks in this trace",
			p.Styles.Dim.Render("  walks come with the dataplane rules of a node")}, p.Width, p.Height)
	}
	if p.stepping {
		return p.stepperView()
	}
	head := p.Styles.Bold.Render("Choose a packet to walk") + p.Styles.Dim.Render("  (enter starts, then n/space steps)")
	return common.Stack(common.Block{View: common.Truncate(head, p.Width), Height: min(1, p.Height)},
		common.Block{View: p.picker.View(), Height: p.Height - 1})
}

// walkKey names a walk across reloads: its node, mode and packet.
func (p *Page) walkKey(r ref) string {
	if r.hop >= len(p.hops.Dataplane) {
		return ""
	}
	d := p.hops.Dataplane[r.hop]
	if r.walk < 0 || r.walk >= len(d.Walks) {
		return d.Node + " " + modeLabel(d)
	}
	return d.Node + " " + modeLabel(d) + " " + rules.PacketLabel(d.Walks[r.walk].Packet)
}

func (p *Page) pickerLabel(r ref) string {
	d := p.hops.Dataplane[r.hop]
	if r.walk < 0 {
		note := d.Note
		if note == "" {
			note = "no packet walks: the rules were read but no packet was walked through them"
		}
		return fmt.Sprintf("%s %s  %s", d.Node, modeLabel(d), note)
	}
	w := d.Walks[r.walk]
	return fmt.Sprintf("%s %s  %s  %s", d.Node, modeLabel(d), rules.PacketLabel(w.Packet), plural(len(w.Outcomes), "outcome"))
}

type source struct{ p *Page }

func (s source) Len() int { return len(s.p.shown) }

func (s source) Row(i, width int, selected bool) string {
	r := s.p.refs[s.p.shown[i]]
	line := s.p.pickerLabel(r)
	if selected {
		return s.p.Styles.Selected.Render(common.Truncate("›"+line, width))
	}
	if r.walk < 0 {
		return common.Truncate(" "+s.p.Styles.Dim.Render(line), width)
	}
	return common.Truncate(" "+line, width)
}
