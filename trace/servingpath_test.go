package trace_test

import (
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// Traffic from outside entering node-2, which has no ready local endpoint
// under externalTrafficPolicy Local, is dropped on every walk: nothing lets
// it through, so the trace fails; from a pod on the same node the packet
// reaches node-1's endpoint and it does not.
func TestNoServingPathFailsTheTrace(t *testing.T) {
	in := input(t, "local-policy.yaml", "lb", &trace.DataplaneInput{Node: "node-2", From: dataplane.EntryExternal})
	f := only(t, trace.Build(in).Findings, trace.NoServingPath)
	if f.Severity != trace.SeverityError || !strings.Contains(f.Message, "node-2 from external to 172.18.0.3:") || !strings.Contains(f.Message, ": DROP") {
		t.Errorf("NoServingPath = %+v, want an error naming node-2's external walk ending in DROP", f)
	}
	in.Dataplane = &trace.DataplaneInput{Node: "node-2", From: dataplane.EntryPod}
	for _, f := range trace.Build(in).Findings {
		if f.ID == trace.NoServingPath {
			t.Errorf("a pod's packet reaches node-1's endpoint, yet %+v", f)
		}
	}
}
