package trace_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane/iptables/expected"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// A Service another proxy owns gets no kube-proxy rule: a node without any
// is clean (issue 13: no ServiceChainMissing, no exit 3), and one that
// still holds kube-proxy's rules for it holds stale rules.
func TestServiceOfAnotherProxy(t *testing.T) {
	in := input(t, "proxy-name.yaml", "mesh", nil)
	bare, err := expected.Generate(expected.Node{Name: "node-1", IPs: []string{"172.18.0.2"}}, []*corev1.Service{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := bare.Save()
	if err != nil {
		t.Fatal(err)
	}
	in.Dataplane = &trace.DataplaneInput{IPTables: parse(t, text), IPTablesName: "node-1.save"}
	tr := trace.Build(in)
	if got := ids(tr.Findings, "dataplane"); len(got) > 0 || trace.HasErrors(tr.Findings) {
		t.Errorf("a node without kube-proxy rules for it: findings %v", tr.Findings)
	}

	unlabelled := input(t, "proxy-name.yaml", "mesh", nil)
	unlabelled.Service.Labels = nil
	for i := range unlabelled.EndpointSlices {
		delete(unlabelled.EndpointSlices[i].Labels, "service.kubernetes.io/service-proxy-name")
	}
	in.Dataplane = &trace.DataplaneInput{IPTables: parse(t, nodeDump(t, unlabelled)), IPTablesName: "node-1.save"}
	tr = trace.Build(in)
	got := ids(tr.Findings, "dataplane")
	if len(got) == 0 {
		t.Fatal("kube-proxy rules left for the Service are not reported")
	}
	for _, id := range got {
		if id != "StaleProxyRules" {
			t.Errorf("finding %s, want only StaleProxyRules", id)
		}
	}
	if trace.HasErrors(tr.Findings) {
		t.Errorf("stale rules of a Service another proxy owns fail the trace: %+v", tr.Findings)
	}
}

// A Service labelled for scoped --serve is expected in its SVCT- chains:
// walked through them, and judged against them, not skipped.
func TestServiceOfScopedServe(t *testing.T) {
	tr := trace.Build(input(t, "proxy-name.yaml", "served", nil))
	if len(tr.Dataplane) == 0 || len(tr.Dataplane[0].Walks) == 0 {
		t.Fatalf("no walk for a Service --serve programs: %+v", tr.Dataplane)
	}
	for _, o := range tr.Dataplane[0].Walks[0].Outcomes {
		if !strings.HasPrefix(o.Path, "SVCT-SERVICES → SVCT-SVC-") || o.Target != "10.244.1.52:9376" {
			t.Errorf("outcome %s → %s, want through --serve's SVCT- chains to the endpoint", o.Path, o.Target)
		}
	}
}
