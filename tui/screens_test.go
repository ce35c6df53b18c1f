package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// update is the -update flag that teatest's golden package registers; one
// flag refreshes every golden file of the package.
func update() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with testdata/<test name>.golden.
func checkGolden(t *testing.T, got string) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(t.Name())+".golden")
	if update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("screen differs from %s (-want +got):\n%s", path, diff)
	}
}

// keys turns key names, or text typed a rune at a time, into messages.
func keys(names ...string) []tea.Msg {
	named := map[string]tea.KeyMsg{
		"tab":       {Type: tea.KeyTab},
		"shift+tab": {Type: tea.KeyShiftTab},
		"enter":     {Type: tea.KeyEnter},
		"esc":       {Type: tea.KeyEsc},
		"pgdown":    {Type: tea.KeyPgDown},
		"down":      {Type: tea.KeyDown},
		"up":        {Type: tea.KeyUp},
		"space":     {Type: tea.KeySpace, Runes: []rune{' '}},
	}
	var out []tea.Msg
	for _, n := range names {
		if k, ok := named[n]; ok {
			out = append(out, k)
			continue
		}
		for _, r := range n {
			out = append(out, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
	return out
}

// TestScreens drives the whole UI at 80x24 over the demo cluster with a
// hand-built dataplane and compares the final screen.
func TestScreens(t *testing.T) {
	tests := []struct {
		name  string
		keys  []tea.Msg
		trace func(testing.TB) *trace.Trace
		// wait is text to wait for when a key starts a command whose
		// message arrives after the keys.
		wait string
	}{
		{"path", nil, nil, ""},
		{"path-endpoint-expanded", keys("G", "enter"), nil, ""},
		{"path-filter", keys("/", "tv2rp", "enter"), nil, ""},
		{"findings", keys("tab"), nil, ""},
		{"findings-jump", keys("tab", "enter"), nil, "pod: hostnames-6f8b9c7d54-tv2rp"},
		{"chains", keys("tab", "tab"), nil, ""},
		{"chains-drift-rule", keys("tab", "tab", "G", "k", "k", "k"), nil, ""},
		{"walk-picker", keys("tab", "tab", "tab"), nil, ""},
		{"walk-step-4", keys("tab", "tab", "tab", "enter", "n", "n", "space"), nil, ""},
		{"walk-step-branch-2", keys("tab", "tab", "tab", "enter", "nnnnnnn"), nil, ""},
		{"walk-step-branch-3-scrolled", keys("tab", "tab", "tab", "enter", "G", "p", "p"), nil, ""},
		{"chains-next-view", keys("tab", "tab", "]"), nil, ""},
		{"chains-followed", keys("tab", "tab", "j", "j", "j", "j", "j", "enter"), nil, ""},
		{"walk-final", keys("tab", "tab", "tab", "enter", "G"), nil, ""},
		{"walk-node-final", keys("tab", "tab", "tab", "j", "enter", "G"), nil, ""},
		{"help", keys("?"), nil, ""},
		{"chains-without-dataplane", keys("tab", "tab"), withoutDataplane, ""},
		{"walk-without-dataplane", keys("tab", "tab", "tab"), withoutDataplane, ""},
		{"path-not-found", nil, notFoundTrace, ""},
		{"findings-not-found", keys("tab"), notFoundTrace, ""},
		// ClientIP affinity with three endpoints: the affinity rules are
		// sticky, the random ones share the fresh clients.
		{"chains-affinity", keys("tab", "tab", "j", "j", "j", "j"), func(tb testing.TB) *trace.Trace { return stickyTrace(tb, 3) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			load := fullTrace
			if tt.trace != nil {
				load = tt.trace
			}
			m := newModel(t.Context(), Config{Trace: load(t), NoColor: true})
			tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
			for _, k := range tt.keys {
				tm.Send(k)
			}
			if tt.wait != "" {
				teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), tt.wait) },
					teatest.WithDuration(5*time.Second))
			}
			if err := tm.Quit(); err != nil {
				t.Fatal(err)
			}
			final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second))
			view := final.View()
			if n := strings.Count(view, "\n") + 1; n != 24 {
				t.Errorf("screen has %d lines, want 24", n)
			}
			checkGolden(t, view+"\n")
		})
	}
}

// TestScreenSizes compares screens in a small and a wide terminal, where
// the tab bar, help and details are laid out differently.
func TestScreenSizes(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		keys []tea.Msg
	}{
		{"path-40x12", 40, 12, nil},
		{"findings-40x12", 40, 12, keys("tab")},
		{"walk-40x12", 40, 12, keys("tab", "tab", "tab", "enter", "nnnn")},
		{"help-40x12", 40, 12, keys("?")},
		{"help-40x12-scrolled", 40, 12, keys("?", "pgdown")},
		{"path-120x40", 120, 40, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := testModel(t, Config{})
			press(m, tea.WindowSizeMsg{Width: tt.w, Height: tt.h})
			press(m, tt.keys...)
			view := m.View()
			checkFits(t, view, tt.w, tt.h)
			checkGolden(t, view+"\n")
		})
	}
}

// TestLiveUpdate signals a change the way the command's informers do and
// checks the trace is swapped in place with the cursor where it was.
func TestLiveUpdate(t *testing.T) {
	r := &reloader{t: t}
	updates := make(chan struct{})
	m := newModel(t.Context(), Config{Trace: fullTrace(t), Reload: r.reload, Updates: updates, NoColor: true})
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))
	for _, k := range keys("G") {
		tm.Send(k)
	}
	updates <- struct{}{}
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "reloaded") },
		teatest.WithDuration(5*time.Second))
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	final := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(*model)
	if got := final.trace().Service.ClusterIPs; len(got) != 1 || got[0] != "10.96.0.1" {
		t.Errorf("clusterIPs %v after one update, want the reloaded 10.96.0.1", got)
	}
	if got := pathPage(final).SelectedKey(); got != "nodes/node/node-2" {
		t.Errorf("cursor moved to %q by the update", got)
	}
}
