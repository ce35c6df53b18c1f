package tui

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/demo"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// BenchmarkStartupDemo measures what `--demo -i` does before its first
// frame: decode the embedded cluster and node-1's iptables dump, read the
// Service's neighbourhood, build the trace (drift, and walks from every
// entry for the walk screen) and draw Path.
func BenchmarkStartupDemo(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		objs, err := demo.Objects()
		if err != nil {
			b.Fatal(err)
		}
		in, err := source.Fetcher{Client: source.Offline(objs)}.Fetch(b.Context(), demo.Namespace, demo.Service)
		if err != nil {
			b.Fatal(err)
		}
		in.Dataplane = &trace.DataplaneInput{EveryEntry: true}
		if err := demo.Dataplane(in.Dataplane, false); err != nil {
			b.Fatal(err)
		}
		m := newModel(b.Context(), Config{Trace: trace.Build(*in), NoColor: true})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		if m.View() == "" {
			b.Fatal("empty first frame")
		}
	}
}
