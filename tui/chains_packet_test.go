package tui

import (
	"regexp"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/source"
	"github.com/svctrace/kubectl-svctrace/tui/components/rules"
)

// TestChainsSharesPerPacket: with walks from every entry, the Chains
// screen has a view per packet; its second line names the packet, and the
// chain headers carry a share exactly when that packet's walk enters the
// chain, so the LoadBalancer's firewall chain has one only for the packet
// to the load-balancer IP.
func TestChainsSharesPerPacket(t *testing.T) {
	tr := everyEntryTrace(t, "scenarios/local-policy.yaml", "lb", source.DumpPaths{})
	hop := tr.Dataplane[0]
	if len(hop.Walks) < 4 {
		t.Fatalf("%d walks, want one from each entry and to each external address", len(hop.Walks))
	}
	m := testModel(t, Config{Trace: tr})
	press(m, tea.WindowSizeMsg{Width: 200, Height: 80})
	press(m, keys("tab", "tab")...)
	header := regexp.MustCompile(`^ *(?:›)?(nat|filter) (\S+)  .*`)
	fw := 0
	for i, w := range hop.Walks {
		lines := strings.Split(m.View(), "\n")
		if want := rules.PacketLabel(dataplane.Packet{From: w.Packet.From, Source: w.Packet.Source, Dest: w.Packet.Dest, Port: w.Packet.Port, Protocol: w.Packet.Protocol}); !strings.Contains(lines[2], want) {
			t.Errorf("view %d names %q, want the packet %q", i+1, strings.TrimSpace(lines[2]), want)
		}
		entered := map[string]bool{}
		for _, s := range w.Steps {
			entered[s.Table+" "+s.Chain] = true
		}
		for _, l := range lines[3:] {
			h := header.FindStringSubmatch(l)
			if h == nil {
				continue
			}
			chain := h[1] + " " + h[2]
			if has := strings.Contains(l, "of packets"); has != entered[chain] {
				t.Errorf("view %d (%s): %q has a share: %t, the walk enters it: %t", i+1, w.Packet.From, strings.TrimSpace(l), has, entered[chain])
			}
			if strings.HasPrefix(h[2], "KUBE-FW-") && entered[chain] {
				fw++
			}
		}
		press(m, keys("]")...)
	}
	if fw != 1 {
		t.Errorf("the firewall chain has a share in %d views, want only the packet to the load-balancer IP's", fw)
	}
}
