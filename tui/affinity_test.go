package tui

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/svctrace/kubectl-svctrace/internal/textfmt"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// TestChainsAffinityShares checks the Chains screen of a Service with
// ClientIP affinity in every view: the walk follows the path of a client
// already pinned to each endpoint besides the fresh one, and those are
// alternatives, not shares. No chain or jump carries more than 100%, the
// affinity rules are marked sticky, and each endpoint chain shows the
// share the text output gives its fresh outcome.
func TestChainsAffinityShares(t *testing.T) {
	percent := regexp.MustCompile(`(\d+\.\d)%`)
	for _, n := range []int{1, 3} {
		t.Run(strconv.Itoa(n)+" endpoints", func(t *testing.T) {
			tr := stickyTrace(t, n)
			m := testModel(t, Config{Trace: tr})
			press(m, tea.WindowSizeMsg{Width: 220, Height: 60})
			press(m, keys("tab", "tab")...)
			views := 0
			for _, d := range tr.Dataplane {
				views += max(1, len(portsOf(d)))
			}
			var sticky, shares int
			for v := 0; v < views; v++ {
				screen := m.View()
				for _, l := range strings.Split(screen, "\n") {
					for _, p := range percent.FindAllStringSubmatch(l, -1) {
						if f, _ := strconv.ParseFloat(p[1], 64); f > 100 {
							t.Errorf("view %d: %s%% in %q", v+1, p[1], strings.TrimSpace(l))
						}
					}
					if strings.Contains(l, "--rcheck") {
						sticky++
						if !strings.Contains(l, " sticky ") || strings.Contains(l, "█") {
							t.Errorf("view %d: affinity rule without its sticky mark: %q", v+1, strings.TrimSpace(l))
						}
					}
				}
				shares += checkFreshShares(t, tr, screen)
				press(m, keys("]")...)
			}
			if sticky == 0 {
				t.Error("no affinity rule on any view")
			}
			if shares == 0 {
				t.Error("no endpoint chain with the share of its fresh outcome")
			}
		})
	}
}

// checkFreshShares checks that each endpoint chain header on screen shows
// the probability of the fresh outcome through it, and counts them.
func checkFreshShares(t *testing.T, tr *trace.Trace, screen string) int {
	t.Helper()
	found := 0
	for _, d := range tr.Dataplane {
		for _, w := range d.Walks {
			for _, o := range w.Outcomes {
				if !strings.Contains(o.Note, "not pinned") {
					continue
				}
				sep := o.Chains[len(o.Chains)-1]
				for _, c := range o.Chains {
					if strings.HasPrefix(c, "KUBE-SEP-") {
						sep = c
					}
				}
				for _, l := range strings.Split(screen, "\n") {
					if !strings.Contains(l, "nat "+sep+"  ") {
						continue
					}
					found++
					if want := textfmt.Percent(o.Probability) + " of packets"; !strings.Contains(l, want) {
						t.Errorf("header of %s is %q, want %q as the text output shows", sep, strings.TrimSpace(l), want)
					}
				}
			}
		}
	}
	return found
}

func portsOf(d trace.DataplaneHop) map[string]bool {
	out := map[string]bool{}
	for _, w := range d.Walks {
		out[w.Packet.ServicePort] = true
	}
	return out
}
