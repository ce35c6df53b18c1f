package trace_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/probe"
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

// A probe that got through to the Service is evidence enough: the walks
// predicted otherwise (ProbeContradictsRules speaks for that).
func TestProbeThroughTheServiceIsEvidence(t *testing.T) {
	in := input(t, "local-policy.yaml", "lb", &trace.DataplaneInput{Node: "node-2", From: dataplane.EntryExternal})
	in.Probe = &trace.ProbeObservation{Site: trace.ProbeSite{Where: "node/node-2"}, Report: &probe.Report{Results: []probe.Result{
		{Target: probe.Target{Kind: probe.KindClusterIP, Port: "80", Addr: netip.MustParseAddrPort("10.96.0.20:80"), Protocol: "TCP"}, Outcome: probe.OK}}}}
	for _, f := range trace.Build(in).Findings {
		if f.ID == trace.NoServingPath {
			t.Errorf("the probe got through, yet %+v", f)
		}
	}
}
