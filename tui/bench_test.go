package tui

import (
	"fmt"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// bigTrace is a Service with n endpoints over n pods on 50 nodes, and a
// node whose KUBE-SERVICES chain holds rules rules, as in a dump of a
// large cluster, with one endpoint chain per endpoint.
func bigTrace(tb testing.TB, n, rules int) *trace.Trace {
	t := fullTrace(tb)
	port := t.Ports[0]
	port.Endpoints = nil
	t.Pods, t.Nodes, t.Slices = nil, nil, nil
	for i := range 50 {
		t.Nodes = append(t.Nodes, trace.NodeHop{Name: fmt.Sprintf("node-%d", i), Ready: true, InternalIP: fmt.Sprintf("172.18.0.%d", i)})
	}
	for i := range n {
		pod := fmt.Sprintf("hostnames-6f8b9c7d54-%05d", i)
		ip := fmt.Sprintf("10.%d.%d.%d", 244+i/65536, i/256%256, i%256)
		slice := fmt.Sprintf("hostnames-%03d", i/100)
		port.Endpoints = append(port.Endpoints, trace.EndpointHop{Address: ip, Port: 9376, Ready: i%7 != 0, Serving: true,
			Pod: pod, Node: t.Nodes[i%50].Name, Slice: slice})
		t.Pods = append(t.Pods, trace.PodHop{Name: pod, Phase: "Running", Ready: i%7 != 0, IPs: []string{ip},
			Node: t.Nodes[i%50].Name, Labels: map[string]string{"app": "hostnames"}})
		if i%100 == 0 {
			t.Slices = append(t.Slices, trace.SliceHop{Name: slice, AddressType: "IPv4", Endpoints: 100, Ready: 86})
		}
	}
	t.Ports[0] = port
	dp := &t.Dataplane[0]
	// The first walk's KUBE-SERVICES step points at the chain's last rule,
	// the worst case for finding the rule to highlight.
	if rules > 0 {
		step := &dp.Walks[0].Steps[1]
		step.Line = 1000 + rules - 1
	}
	services := &dp.Chains[2]
	services.Rules = nil
	for i := range rules {
		services.Rules = append(services.Rules, dataplane.RuleLine{Line: 1000 + i,
			Text: fmt.Sprintf(`-A KUBE-SERVICES -d 10.96.%d.%d/32 -p tcp -m comment --comment "ns%d/svc%d:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-%016d`, i/256%256, i%256, i/100, i, i)})
	}
	return t
}

func BenchmarkView(b *testing.B) {
	big := bigTrace(b, 1000, 200_000)
	benches := []struct {
		name string
		keys []tea.Msg
	}{
		{"path-1000-endpoints", keys("/", "0500", "esc", "pgdown", "pgdown")},
		{"findings", keys("tab")},
		{"chains-200k-rules", keys("tab", "tab", "pgdown", "pgdown")},
		{"chains-200k-rules-end", keys("tab", "tab", "G")},
		{"walk-step-in-200k-chain", keys("tab", "tab", "tab", "enter", "n")},
		{"walk-final", keys("tab", "tab", "tab", "enter", "G")},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			m := newModel(b.Context(), Config{Trace: big, NoColor: true})
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			press(m, bb.keys...)
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}

// BenchmarkUpdate measures what a key costs when it rebuilds rows: a
// refresh of the whole trace, and one filter keystroke over 200k rules.
func BenchmarkUpdate(b *testing.B) {
	big := bigTrace(b, 1000, 200_000)
	b.Run("refresh-1000-endpoints-200k-rules", func(b *testing.B) {
		m := newModel(b.Context(), Config{Trace: big, NoColor: true})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		b.ReportAllocs()
		for b.Loop() {
			m.Update(TraceMsgFor(big))
		}
	})
	b.Run("filter-keystroke-200k-rules", func(b *testing.B) {
		m := newModel(b.Context(), Config{Trace: big, NoColor: true})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		press(m, keys("tab", "tab", "/", "svc1")...)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			// Alternate so each keystroke changes the query.
			if i%2 == 0 {
				press(m, keys("9")...)
			} else {
				press(m, tea.KeyMsg{Type: tea.KeyBackspace})
			}
		}
	})
	b.Run("path-expand-1000-endpoints", func(b *testing.B) {
		m := newModel(b.Context(), Config{Trace: big, NoColor: true})
		m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
		press(m, keys("j", "j", "j", "j", "j")...) // the port
		b.ReportAllocs()
		for b.Loop() {
			press(m, keys("enter")...)
		}
	})
}
