package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/pages/chains"
	"github.com/svctrace/kubectl-svctrace/tui/pages/findings"
	"github.com/svctrace/kubectl-svctrace/tui/pages/nodes"
	"github.com/svctrace/kubectl-svctrace/tui/pages/path"
	"github.com/svctrace/kubectl-svctrace/tui/pages/walk"
)

// The screens, in tab order.
const (
	screenPath = iota
	screenFindings
	screenChains
	screenWalk
	// screenNodes is there with --all-nodes only.
	screenNodes
)

// model is the frame: a tab bar, the active screen, and a status line.
type model struct {
	common.Common
	ctx     context.Context
	cfg     Config
	hops    *trace.Trace
	pages   []common.Page
	active  int
	help    help.Model
	showAll bool
	// helpTop is the first line of the help screen shown, which scrolls
	// when it does not fit.
	helpTop int
	status  string
	// loading and pending make refreshes serial: a change signalled while
	// a reload runs triggers one more reload when it ends.
	loading, pending bool
	// jumpedFrom is the screen a finding was opened from, so esc on Path
	// or Chains goes back to it; -1 when there is nowhere to go back to.
	jumpedFrom int
}

func newModel(ctx context.Context, cfg Config) *model {
	cfg = escaped(cfg)
	t := cfg.Trace
	if t == nil {
		t = &trace.Trace{}
	}
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	c := common.Common{
		Width: 80, Height: 24,
		Styles: common.DefaultStyles(common.NewRenderer(out, cfg.NoColor)),
		KeyMap: common.DefaultKeyMap(),
	}
	m := &model{Common: c, ctx: ctx, cfg: cfg, hops: t, help: newHelp(c.Styles), jumpedFrom: -1}
	m.pages = []common.Page{
		path.New(c, m.hops),
		findings.New(c, m.hops),
		chains.New(c, m.hops),
		walk.New(c, m.hops),
	}
	if f := cfg.Fleet; f != nil {
		m.pages = append(m.pages, nodes.New(c, f.Service, f.Rows, f.Shown, time.Now))
		m.active = screenNodes
	}
	m.resize()
	return m
}

// showNode puts the Service traced through node's rules on every screen.
func (m *model) showNode(node string) tea.Cmd {
	t := m.cfg.Fleet.Traces[node]
	if t == nil {
		m.status = "node " + node + " was not read: see its row"
		return nil
	}
	m.hops = t
	for _, p := range m.pages {
		p.SetTrace(t)
	}
	m.pages[screenNodes].(*nodes.Page).Show(node)
	m.resize()
	m.active, m.jumpedFrom, m.status = screenPath, screenNodes, "node "+node
	return nil
}

func newHelp(st *common.Styles) help.Model {
	h := help.New()
	h.Styles = help.Styles{
		Ellipsis: st.Dim, ShortKey: st.Key, ShortDesc: st.Dim, ShortSeparator: st.Dim,
		FullKey: st.Key, FullDesc: st.Dim, FullSeparator: st.Dim,
	}
	return h
}

// Init starts listening for cluster changes, and loads the trace when
// none was given.
func (m *model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.waitForUpdate()}
	if m.cfg.Trace == nil && m.cfg.Reload != nil {
		m.loading = true
		cmds = append(cmds, m.reload())
	}
	return tea.Batch(cmds...)
}

func (m *model) waitForUpdate() tea.Cmd {
	ch := m.cfg.Updates
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case _, ok := <-ch:
			if !ok {
				return nil
			}
			return common.UpdateMsg{}
		case <-m.ctx.Done():
			return nil
		}
	}
}

func (m *model) reload() tea.Cmd {
	reload, ctx := m.cfg.Reload, m.ctx
	return func() tea.Msg {
		t, err := reload(ctx)
		switch {
		case err != nil:
			return common.ReloadErrMsg{Err: err}
		case t == nil:
			return common.ReloadErrMsg{Err: errors.New("reload returned no trace")}
		}
		return common.TraceMsg{Trace: t}
	}
}

// startReload runs a reload unless one is running, then remembers to run
// another when it ends.
func (m *model) startReload() tea.Cmd {
	if m.cfg.Reload == nil {
		m.status = "refresh is not available for this input"
		return nil
	}
	if m.loading {
		m.pending = true
		return nil
	}
	m.loading, m.status = true, "reloading…"
	return m.reload()
}

// The smallest terminal the frame is drawn in: the tab bar, the status
// line and a screen of at least four lines, which is what Path needs for
// one row of the tree over its details. Below it a single line says so.
const (
	minWidth  = 20
	minHeight = 6
)

func (m *model) tooSmall() bool { return m.Width < minWidth || m.Height < minHeight }

func (m *model) resize() {
	for _, p := range m.pages {
		p.SetSize(m.Width, m.Height-2)
	}
	m.help.Width = m.Width
}

// Update routes keys: quit and help always work, screen keys only while
// the screen is not reading a filter.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.SetSize(msg.Width, msg.Height)
		m.resize()
		return m, nil
	case common.TraceMsg:
		return m, m.setTrace(msg.Trace)
	case common.ReloadErrMsg:
		m.loading = false
		m.status = "reload failed: " + msg.Err.Error()
		if m.pending {
			m.pending = false
			return m, m.startReload()
		}
		return m, nil
	case common.UpdateMsg:
		return m, tea.Batch(m.startReload(), m.waitForUpdate())
	case findings.OpenMsg:
		return m, m.open(msg.Finding)
	case nodes.OpenMsg:
		return m, m.showNode(msg.Node)
	case common.JumpMsg:
		m.jumpedFrom, m.active = m.active, screenPath
		return m, m.pages[screenPath].Update(msg)
	case tea.MouseMsg:
		if m.showAll {
			switch msg.Button {
			case tea.MouseButtonWheelDown:
				m.helpTop = min(m.helpTop+1, len(m.helpLines())-1)
			case tea.MouseButtonWheelUp:
				m.helpTop = max(m.helpTop-1, 0)
			}
			return m, nil
		}
	case tea.KeyMsg:
		if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
			return m, m.eachRune(msg)
		}
		if cmd, done := m.globalKey(msg); done {
			return m, cmd
		}
	}
	return m, m.pages[m.active].Update(msg)
}

// open shows what a finding is about: a dataplane rule or chain on
// Chains, anything else on Path.
func (m *model) open(f trace.Finding) tea.Cmd {
	if !chains.IsDataplane(f) {
		m.jumpedFrom, m.active = m.active, screenPath
		return m.pages[screenPath].Update(common.JumpMsg{Subject: f.Subject})
	}
	m.jumpedFrom, m.active = m.active, screenChains
	if !m.chainsPage().Jump(f) {
		m.status = f.Subject + " is in no chain listed for the Service"
	}
	return nil
}

func (m *model) chainsPage() *chains.Page { return m.pages[screenChains].(*chains.Page) }

// eachRune handles keys typed faster than the terminal is read, which
// arrive as one message ("nnn"), as the separate presses they were.
func (m *model) eachRune(k tea.KeyMsg) tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range k.Runes {
		_, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}, Alt: k.Alt})
		cmds = append(cmds, cmd)
	}
	return tea.Sequence(cmds...)
}

func (m *model) setTrace(h *trace.Trace) tea.Cmd {
	m.hops = h
	for _, p := range m.pages {
		p.SetTrace(h)
	}
	m.resize()
	m.loading, m.status = false, "reloaded"
	if m.pending {
		m.pending = false
		return m.startReload()
	}
	return nil
}

func (m *model) globalKey(k tea.KeyMsg) (tea.Cmd, bool) {
	km := m.KeyMap
	if k.Type == tea.KeyCtrlC {
		return tea.Quit, true
	}
	if m.pages[m.active].Capturing() {
		return nil, false
	}
	if m.showAll {
		// Scroll keys move help; any other key closes it, q included:
		// people press q to leave help.
		switch {
		case key.Matches(k, km.Down):
			m.helpTop++
		case key.Matches(k, km.Up):
			m.helpTop--
		case key.Matches(k, km.PageDown):
			m.helpTop += m.Height - 3
		case key.Matches(k, km.PageUp):
			m.helpTop -= m.Height - 3
		default:
			m.showAll = false
		}
		m.helpTop = max(0, min(m.helpTop, len(m.helpLines())-1))
		return nil, true
	}
	switch {
	case key.Matches(k, km.Quit):
		return tea.Quit, true
	case key.Matches(k, km.Help):
		m.showAll, m.helpTop = true, 0
	case key.Matches(k, km.NextTab):
		m.active, m.jumpedFrom = (m.active+1)%len(m.pages), -1
	case key.Matches(k, km.PrevTab):
		m.active, m.jumpedFrom = (m.active+len(m.pages)-1)%len(m.pages), -1
	case key.Matches(k, km.Refresh):
		return m.startReload(), true
	case key.Matches(k, km.Back) && m.jumpedFrom >= 0 && m.backFromJump():
		m.active, m.jumpedFrom = m.jumpedFrom, -1
	default:
		return nil, false
	}
	m.status = ""
	return nil, true
}

// backFromJump reports whether esc on the screen a finding opened goes
// back to the findings, rather than clearing a filter or retracing the
// jumps followed since.
func (m *model) backFromJump() bool {
	switch m.active {
	case screenPath:
		return !m.pages[screenPath].(*path.Page).Filtered()
	case screenChains:
		return !m.chainsPage().Retraces()
	}
	return false
}

// View draws the frame, whose body always has Height-2 lines, or a single
// line in a terminal smaller than minWidth x minHeight.
func (m *model) View() string {
	if m.tooSmall() {
		return m.tooSmallView()
	}
	body := m.pages[m.active].View()
	if m.showAll {
		body = m.helpView()
	}
	return m.tabs() + "\n" + body + "\n" + m.footer()
}

// tooSmallView is one line, or nothing when there is no line to draw on.
func (m *model) tooSmallView() string {
	if m.Height == 0 {
		return ""
	}
	msg := fmt.Sprintf("window too small: svctrace needs %dx%d, has %dx%d", minWidth, minHeight, m.Width, m.Height)
	return common.Truncate(m.Styles.Warn.Render(msg), m.Width)
}

// trace returns the trace on screen, for tests.
func (m *model) trace() *trace.Trace { return m.hops }
