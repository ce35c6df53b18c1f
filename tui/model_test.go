package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/google/go-cmp/cmp"

	"github.com/charmbracelet/lipgloss"

	"github.com/svctrace/kubectl-svctrace/trace"
	"github.com/svctrace/kubectl-svctrace/tui/common"
	"github.com/svctrace/kubectl-svctrace/tui/pages/path"
	"github.com/svctrace/kubectl-svctrace/tui/pages/walk"
)

func testModel(t *testing.T, cfg Config) *model {
	t.Helper()
	if cfg.Trace == nil {
		cfg.Trace = fullTrace(t)
	}
	cfg.NoColor = true
	m := newModel(t.Context(), cfg)
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	return m
}

// press feeds msgs to m, each followed by what its commands send, as the
// program does when keys come at human speed.
func press(m *model, msgs ...tea.Msg) (quit bool) {
	for _, msg := range msgs {
		if _, ok := msg.(tea.QuitMsg); ok {
			return true
		}
		_, cmd := m.Update(msg)
		if press(m, run(cmd)...) {
			return true
		}
	}
	return false
}

func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, run(c)...)
		}
		return out
	}
	if msg == nil {
		return nil
	}
	return []tea.Msg{msg}
}

func pathPage(m *model) *path.Page { return m.pages[screenPath].(*path.Page) }
func walkPage(m *model) *walk.Page { return m.pages[screenWalk].(*walk.Page) }

const (
	tv2rp    = "hostnames-6f8b9c7d54-tv2rp"
	portKey  = "port/default/80/TCP"
	sliceKey = portKey + "/slice/hostnames-x7k2p"
)

func TestPathNavigation(t *testing.T) {
	tests := []struct {
		name string
		keys []tea.Msg
		want string
	}{
		{"starts on the service", nil, "service"},
		{"j moves down", keys("j"), "dns"},
		{"down arrow moves down", keys("down", "down"), "dns/hostnames.default.svc.cluster.local/A"},
		{"k at the top stays", keys("k"), "service"},
		{"l on an open branch enters it", keys("l"), "dns"},
		{"h on an open branch closes it", keys("j", "h", "j"), portKey},
		{"h on a leaf goes to its parent", keys("j", "j", "h"), "dns"},
		{"enter opens an endpoint", keys("j", "j", "j", "j", "j", "j", "j", "j", "j", "enter", "j"), sliceKey + "/ep/10.244.2.6:9376/pod/" + tv2rp},
		{"enter twice closes it again", keys("j", "j", "j", "j", "j", "j", "j", "j", "j", "enter", "enter", "j"), "pods"},
		{"G goes to the last row", keys("G"), "nodes/node/node-2"},
		{"pgdown moves a page less one row", keys("pgdown"), "nodes"},
		{"wheel scrolls and drags the cursor along", []tea.Msg{tea.MouseMsg{Button: tea.MouseButtonWheelDown}, tea.MouseMsg{Button: tea.MouseButtonWheelDown}}, "dns/hostnames.default.svc.cluster.local/A"},
		{"filter keeps the cursor on its row", keys("G", "/", "node-2", "enter"), "nodes/node/node-2"},
		{"clearing the filter keeps the cursor", keys("/", "tv2rp", "enter", "j", "esc"), portKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, Config{})
			press(m, tt.keys...)
			if got := pathPage(m).SelectedKey(); got != tt.want {
				t.Errorf("selected %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPathFilter(t *testing.T) {
	tests := []struct {
		name string
		keys []tea.Msg
		want []string
	}{
		{"matches with ancestors, inside closed branches", keys("/", "TV2RP", "enter"), []string{
			"service", portKey, sliceKey, sliceKey + "/ep/10.244.2.6:9376",
			sliceKey + "/ep/10.244.2.6:9376/pod/" + tv2rp, "pods", "pods/pod/" + tv2rp,
		}},
		{"narrows while typing", keys("/", "node-2"), []string{
			"service", portKey, sliceKey,
			sliceKey + "/ep/10.244.2.5:9376", sliceKey + "/ep/10.244.2.5:9376/pod/hostnames-6f8b9c7d54-9qwlm",
			sliceKey + "/ep/10.244.2.5:9376/pod/hostnames-6f8b9c7d54-9qwlm/node/node-2",
			sliceKey + "/ep/10.244.2.6:9376", sliceKey + "/ep/10.244.2.6:9376/pod/" + tv2rp,
			sliceKey + "/ep/10.244.2.6:9376/pod/" + tv2rp + "/node/node-2",
			"pods", "pods/pod/hostnames-6f8b9c7d54-9qwlm", "pods/pod/hostnames-6f8b9c7d54-9qwlm/node/node-2",
			"pods/pod/" + tv2rp, "pods/pod/" + tv2rp + "/node/node-2", "nodes", "nodes/node/node-2",
		}},
		{"no match leaves nothing", keys("/", "zzz", "enter"), []string{}},
		{"esc clears", keys("/", "tv2rp", "enter", "esc", "G", "h", "h"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, Config{})
			press(m, tt.keys...)
			got := pathPage(m).VisibleKeys()
			if tt.want == nil {
				if len(got) < 10 {
					t.Errorf("after clearing the filter only %d rows: %v", len(got), got)
				}
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFilterCapturesGlobalKeys(t *testing.T) {
	m := testModel(t, Config{})
	if quit := press(m, keys("/", "q", "tab", "?")...); quit {
		t.Fatal("q while typing a filter quit the UI")
	}
	if m.active != screenPath || m.showAll {
		t.Errorf("keys typed into the filter switched screen (%d) or opened help (%t)", m.active, m.showAll)
	}
	if !strings.Contains(m.View(), "/q?_") {
		t.Errorf("filter line missing the typed query:\n%s", m.View())
	}
	if quit := press(m, keys("esc", "q")...); !quit {
		t.Error("q after closing the filter did not quit")
	}
}

func TestFindingJumpsToSubject(t *testing.T) {
	m := testModel(t, Config{})
	press(m, keys("tab", "enter")...)
	if m.active != screenPath {
		t.Fatalf("active screen %d after enter on a finding, want Path", m.active)
	}
	if got, want := pathPage(m).SelectedKey(), "pods/pod/"+tv2rp; got != want {
		t.Errorf("selected %q, want %q", got, want)
	}
}

func TestEscReturnsFromJump(t *testing.T) {
	tests := []struct {
		name string
		keys []tea.Msg
		want int
	}{
		{"esc goes back to findings", keys("tab", "enter", "esc"), screenFindings},
		{"esc clears a filter first", keys("tab", "enter", "/", "x", "enter", "esc"), screenPath},
		{"then goes back", keys("tab", "enter", "/", "x", "enter", "esc", "esc"), screenFindings},
		{"not after moving on with tab", keys("tab", "enter", "tab", "shift+tab", "esc"), screenPath},
		{"esc on Path alone stays", keys("esc"), screenPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, Config{})
			press(m, tt.keys...)
			if m.active != tt.want {
				t.Errorf("active screen %d, want %d", m.active, tt.want)
			}
		})
	}
}

func TestJumpFallsBack(t *testing.T) {
	tests := []struct{ subject, want string }{
		{"service/hostnames:default", portKey},
		{"service/hostnames:nope", "service"},
		{"node/node-1", "nodes/node/node-1"},
		{"dns/hostnames.default.svc.cluster.local", "dns/hostnames.default.svc.cluster.local/A"},
		{"dns/other.example", "dns"},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			m := testModel(t, Config{})
			if !pathPage(m).Jump(tt.subject) {
				t.Fatalf("no node for %q", tt.subject)
			}
			if got := pathPage(m).SelectedKey(); got != tt.want {
				t.Errorf("selected %q, want %q", got, tt.want)
			}
		})
	}
}

func TestChainsEnterFollowsJump(t *testing.T) {
	m := testModel(t, Config{})
	// Down to KUBE-SERVICES' rule for the Service, then follow it twice.
	press(m, keys("tab", "tab", "j", "j", "j", "j", "j", "enter")...)
	if !strings.Contains(m.View(), "›nat "+svcChain) {
		t.Fatalf("enter on the KUBE-SERVICES rule did not select %s:\n%s", svcChain, m.View())
	}
	press(m, keys("j", "j", "enter")...)
	if !strings.Contains(m.View(), "›nat "+sep1) {
		t.Errorf("enter on the first endpoint rule did not select %s:\n%s", sep1, m.View())
	}
}

func TestStepper(t *testing.T) {
	open := keys("tab", "tab", "tab", "enter")
	last := len(demoDataplane()[0].Walks[0].Steps)
	tests := []struct {
		name     string
		keys     []tea.Msg
		stepping bool
		step     int
	}{
		{"enter opens at the first step", nil, true, 0},
		{"n, space and l step forward", keys("n", "space", "l"), true, 3},
		{"p steps back", keys("n", "n", "p"), true, 1},
		{"p at the start stays", keys("p"), true, 0},
		{"G shows the distribution", keys("G"), true, last},
		{"n past the end stays at the distribution", keys("G", "n"), true, last},
		{"p from the distribution is the last step", keys("G", "p"), true, last - 1},
		{"g returns to the start", keys("G", "g"), true, 0},
		{"esc goes back to the picker", keys("n", "esc"), false, 1},
		{"keys read together count one by one", []tea.Msg{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("nnn")}}, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, Config{})
			press(m, append(append([]tea.Msg{}, open...), tt.keys...)...)
			stepping, step := walkPage(m).Stepping()
			if stepping != tt.stepping || step != tt.step {
				t.Errorf("stepping=%t step=%d, want %t %d", stepping, step, tt.stepping, tt.step)
			}
		})
	}
}

func TestStepperShowsCurrentRuleAndDistribution(t *testing.T) {
	m := testModel(t, Config{})
	press(m, keys("tab", "tab", "tab", "enter", "n", "n", "n")...)
	if !strings.Contains(m.View(), "▶     61 ███░░░░░░░  33.3% -A "+svcChain) {
		t.Errorf("step 4 does not highlight line 61 of %s:\n%s", svcChain, m.View())
	}
	press(m, keys("G")...)
	for _, want := range []string{"DNAT 10.244.1.7:9376", "DNAT 10.244.2.5:9376", "DNAT 10.244.2.6:9376", "33.3%"} {
		if !strings.Contains(m.View(), want) {
			t.Errorf("final distribution lacks %q:\n%s", want, m.View())
		}
	}
}

// reloader returns a trace whose ClusterIP counts the reloads. The
// program calls it from its own goroutine; tests read calls only after
// the program ended or from the same goroutine.
type reloader struct {
	t     *testing.T
	calls int
	err   error
}

func (r *reloader) reload(context.Context) (*trace.Trace, error) {
	r.calls++
	if r.err != nil {
		return nil, r.err
	}
	t := fullTrace(r.t)
	t.Service.ClusterIPs = []string{fmt.Sprintf("10.96.0.%d", r.calls)}
	return t, nil
}

func TestRefreshKeepsCursor(t *testing.T) {
	r := &reloader{t: t}
	m := testModel(t, Config{Reload: r.reload})
	press(m, keys("G", "h")...)
	press(m, keys("r")...)
	if r.calls != 1 {
		t.Fatalf("r reloaded %d times, want 1", r.calls)
	}
	if got := pathPage(m).SelectedKey(); got != "nodes" {
		t.Errorf("cursor on %q after refresh, want nodes", got)
	}
	if got := m.trace().Service.ClusterIPs; !cmp.Equal(got, []string{"10.96.0.1"}) {
		t.Errorf("trace not replaced: clusterIPs %v", got)
	}
	if !strings.Contains(m.View(), "reloaded") {
		t.Errorf("status does not say reloaded:\n%s", m.View())
	}
}

func TestRefreshFailureKeepsData(t *testing.T) {
	r := &reloader{t: t, err: errors.New("get services: connection refused")}
	m := testModel(t, Config{Reload: r.reload})
	press(m, keys("r")...)
	view := m.View()
	if !strings.Contains(view, "reload failed: get services: connection refused") {
		t.Errorf("error not shown:\n%s", view)
	}
	if !strings.Contains(view, "10.96.0.150") {
		t.Errorf("previous trace no longer shown:\n%s", view)
	}
}

func TestReloadWithoutTrace(t *testing.T) {
	m := testModel(t, Config{Reload: func(context.Context) (*trace.Trace, error) { return nil, nil }})
	press(m, keys("r")...)
	if !strings.Contains(m.View(), "reload failed: reload returned no trace") {
		t.Errorf("a nil trace was not reported:\n%s", m.View())
	}
}

func TestUpdateDuringReloadReloadsAgain(t *testing.T) {
	r := &reloader{t: t}
	m := testModel(t, Config{Reload: r.reload})
	_, first := m.Update(keys("r")[0])
	// A change arrives while the first reload runs: it is queued, not run
	// alongside.
	if _, cmd := m.Update(updateMsg()); run(cmd) != nil {
		t.Fatal("second reload started while the first was running")
	}
	press(m, run(first)...)
	if r.calls != 2 {
		t.Errorf("%d reloads, want 2 (the queued one runs after the first)", r.calls)
	}
}

// TestSizes checks every screen fills the terminal exactly and never
// draws past its width, from tiny to wide.
func TestSizes(t *testing.T) {
	screens := map[string][]tea.Msg{
		"path": nil, "findings": keys("tab"), "chains": keys("tab", "tab"),
		"walk": keys("tab", "tab", "tab", "enter", "n", "n", "n"), "final": keys("tab", "tab", "tab", "enter", "G"),
		"help": keys("?"),
	}
	for _, size := range [][2]int{{80, 24}, {40, 10}, {132, 43}, {200, 60}} {
		for name, k := range screens {
			m := testModel(t, Config{})
			press(m, k...)
			press(m, tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			lines := strings.Split(m.View(), "\n")
			if len(lines) != size[1] {
				t.Errorf("%s at %dx%d: %d lines", name, size[0], size[1], len(lines))
			}
			for i, l := range lines {
				if w := lipglossWidth(l); w > size[0] {
					t.Errorf("%s at %dx%d: line %d is %d wide: %q", name, size[0], size[1], i, w, l)
				}
			}
		}
	}
}

func updateMsg() tea.Msg { return common.UpdateMsg{} }

func lipglossWidth(s string) int { return lipgloss.Width(s) }

// TraceMsgFor is the message a finished reload sends.
func TraceMsgFor(t *trace.Trace) tea.Msg { return common.TraceMsg{Trace: t} }

// A live update that removes the selected endpoint (its pod deleted) puts
// the cursor on a neighbouring endpoint, not on whatever row took its place:
// the last endpoint of its slice is followed by the pods' row.
func TestCursorMovesToNeighbourWhenItsRowGoes(t *testing.T) {
	m := testModel(t, Config{})
	p := pathPage(m)
	var gone string
	for range 40 {
		press(m, keys("j")...)
		if k := p.SelectedKey(); strings.Contains(k, "/ep/10.244.2.6:") {
			gone = k
			break
		}
	}
	if gone == "" {
		t.Fatal("no row for endpoint 10.244.2.6")
	}
	next := fullTrace(t)
	for i := range next.Ports {
		next.Ports[i].Endpoints = slices.DeleteFunc(next.Ports[i].Endpoints, func(e trace.EndpointHop) bool { return e.Address == "10.244.2.6" })
	}
	p.SetTrace(next)
	if got := p.SelectedKey(); !strings.Contains(got, "/ep/") || got == gone {
		t.Errorf("cursor on %q after its endpoint went, want a neighbouring endpoint", got)
	}
}

// In a short terminal the final distribution is a window: it says how many
// lines lie below, ↓/j scrolls to the last outcome, ↑/k scrolls back and,
// at the top, steps back as elsewhere.
func TestDistributionScrolls(t *testing.T) {
	m := testModel(t, Config{})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 8})
	press(m, keys("tab", "tab", "tab", "enter", "G")...)
	if !strings.Contains(m.View(), "more lines: ↓/j scrolls") {
		t.Fatalf("cut distribution does not say so:\n%s", m.View())
	}
	press(m, keys("j", "j", "j", "j", "j", "j", "j", "j", "j", "j")...)
	outs := demoDataplane()[0].Walks[0].Outcomes
	if v := m.View(); strings.Contains(v, "more lines") || !strings.Contains(v, outs[len(outs)-1].Target) {
		t.Errorf("scrolled to the end, the last outcome is not in view:\n%s", v)
	}
	_, last := walkPage(m).Stepping()
	press(m, keys("k", "k", "k", "k", "k", "k", "k", "k", "k", "k", "k")...)
	if _, step := walkPage(m).Stepping(); step != last-1 {
		t.Errorf("k at the top of the distribution: step %d, want %d", step, last-1)
	}
}

// A reload that adds a walk above the selected one keeps the cursor on the
// same packet, not on the same row.
func TestWalkPickerKeepsItsPacket(t *testing.T) {
	withWalks := func(froms ...string) *trace.Trace {
		tr := fullTrace(t)
		base := tr.Dataplane[0].Walks[0]
		tr.Dataplane[0].Walks = nil
		for _, from := range froms {
			w := base
			w.Packet.From = mustEntry(from)
			tr.Dataplane[0].Walks = append(tr.Dataplane[0].Walks, w)
		}
		return tr
	}
	m := testModel(t, Config{Trace: withWalks("pod", "node")})
	press(m, keys("tab", "tab", "tab", "j")...)
	walkPage(m).SetTrace(withWalks("external", "pod", "node"))
	for _, l := range strings.Split(m.View(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "›") && !strings.Contains(l, "from node") {
			t.Errorf("cursor on %q after the reload, want the walk from node", l)
		}
	}
	if !strings.Contains(m.View(), "›") {
		t.Errorf("no cursor row:\n%s", m.View())
	}
}
