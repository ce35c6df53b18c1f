package trace_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// The terminal UI lets the reader pick the packet: with EveryEntry the hop
// walks from pods, the node and outside, the asked-for entry first.
func TestEveryEntryWalks(t *testing.T) {
	in := input(t, "local-policy.yaml", "lb", &trace.DataplaneInput{From: dataplane.EntryNode, EveryEntry: true})
	tr := trace.Build(in)
	if len(tr.Dataplane) == 0 {
		t.Fatal("no dataplane hop")
	}
	var froms []string
	for _, w := range tr.Dataplane[0].Walks {
		if len(froms) == 0 || froms[len(froms)-1] != w.Packet.From.String() {
			froms = append(froms, w.Packet.From.String())
		}
	}
	if diff := cmp.Diff([]string{"node", "pod", "external"}, froms); diff != "" {
		t.Errorf("walk entries in order (-want +got):\n%s", diff)
	}
	in.Dataplane = &trace.DataplaneInput{From: dataplane.EntryNode}
	for _, w := range trace.Build(in).Dataplane[0].Walks {
		if w.Packet.From != dataplane.EntryNode {
			t.Errorf("without EveryEntry a walk from %s", w.Packet.From)
		}
	}
}

// Without --node, a dump is judged against the node whose rules it fits:
// with externalTrafficPolicy Local, node-1's and node-2's rules differ, and
// comparing node-2's dump with node-1's rules would report drift that is
// not there.
func TestDumpPicksItsNode(t *testing.T) {
	for _, node := range []struct{ name, ip string }{{"node-1", "172.18.0.2"}, {"node-2", "172.18.0.3"}} {
		in := input(t, "local-policy.yaml", "lb", nil)
		in.Dataplane = &trace.DataplaneInput{IPTables: parse(t, nodeDumpFor(t, in, node.name, node.ip)), IPTablesName: node.name + ".save"}
		tr := trace.Build(in)
		hop := tr.Dataplane[0]
		if hop.Node != node.name || !strings.Contains(hop.NodeNote, "node "+node.name+" chosen") {
			t.Errorf("dump of %s judged as %s's (%q)", node.name, hop.Node, hop.NodeNote)
		}
		if got := ids(tr.Findings, "dataplane"); len(got) > 0 {
			t.Errorf("dump of %s: dataplane findings %v, want none", node.name, got)
		}
	}
}

// A selected pod carries its own Warning events, newest first; Normal ones
// and other pods' stay out.
func TestPodEvents(t *testing.T) {
	in := input(t, "not-ready.yaml", "web", nil)
	tr := trace.Build(in)
	for _, p := range tr.Pods {
		switch p.Name {
		case "web-crash":
			want := []trace.PodEvent{{Reason: "BackOff", Message: "Back-off restarting failed container app in pod web-crash_default", Count: 31, Last: "2026-11-25T09:10:00"}}
			if diff := cmp.Diff(want, p.Events); diff != "" {
				t.Errorf("web-crash events (-want +got):\n%s", diff)
			}
		default:
			if len(p.Events) != 0 {
				t.Errorf("%s has events %v, want none", p.Name, p.Events)
			}
		}
	}
}

// With nothing node-specific in the Service, every node's rules are the
// same: the first node is used and no note pretends a choice was made.
func TestDumpNodeNotPickedWithoutLocalRules(t *testing.T) {
	in := input(t, "local-policy.yaml", "lb", nil)
	in.Service.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	in.Dataplane = &trace.DataplaneInput{IPTables: parse(t, nodeDumpFor(t, in, "node-2", "172.18.0.3")), IPTablesName: "node-2.save"}
	hop := trace.Build(in).Dataplane[0]
	if hop.NodeNote != "" {
		t.Errorf("node note %q for a Service whose rules are the same on every node", hop.NodeNote)
	}
}
