package trace_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// The terminal UI lets the reader pick the packet: with EveryEntry the hop
// walks from pods, the node and outside, the asked-for entry first.
func TestEveryEntryWalks(t *testing.T) {
	in := input(t, "local-policy.yaml", "lb", &trace.DataplaneInput{From: "node", EveryEntry: true})
	tr := trace.Build(in)
	if len(tr.Dataplane) == 0 {
		t.Fatal("no dataplane hop")
	}
	var froms []string
	for _, w := range tr.Dataplane[0].Walks {
		if len(froms) == 0 || froms[len(froms)-1] != w.Packet.From {
			froms = append(froms, w.Packet.From)
		}
	}
	if diff := cmp.Diff([]string{"node", "pod", "external"}, froms); diff != "" {
		t.Errorf("walk entries in order (-want +got):\n%s", diff)
	}
	in.Dataplane = &trace.DataplaneInput{From: "node"}
	for _, w := range trace.Build(in).Dataplane[0].Walks {
		if w.Packet.From != "node" {
			t.Errorf("without EveryEntry a walk from %s", w.Packet.From)
		}
	}
}
