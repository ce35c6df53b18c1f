package path

import (
	"slices"
	"testing"

	"github.com/svctrace/kubectl-svctrace/trace"
)

// The details pane of a pod shows its conditions, declared ports and
// latest Warning events, as issue 5 asks of the selected item.
func TestPodDetails(t *testing.T) {
	h := &trace.Trace{Pods: []trace.PodHop{{
		Name: "web-crash", Phase: "Running",
		Conditions:     []trace.PodCondition{{Type: "Ready", Status: "False", Reason: "ContainersNotReady"}},
		ContainerPorts: []trace.ContainerPort{{Container: "app", Name: "http", Port: 8080, Protocol: "TCP"}},
		Events:         []trace.PodEvent{{Reason: "BackOff", Message: "Back-off restarting failed container app", Count: 31, Last: "2026-11-25T09:10:00"}},
	}}}
	got := details(h, &node{kind: kindPod, ref: 0})
	for _, want := range []string{
		"conditions: Ready=False (ContainersNotReady)",
		"declared ports: app http=8080/TCP",
		"event: BackOff x31, last 2026-11-25T09:10:00: Back-off restarting failed container app",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("details lack %q: %q", want, got)
		}
	}
}
