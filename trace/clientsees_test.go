package trace_test

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/probe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// A node named with --node that hosts none of the selected pods is said
// to host none, not to host pods that are not ready (issue 13).
func TestNoLocalEndpointsOnNodeWithoutPods(t *testing.T) {
	in := input(t, "local-policy.yaml", "lb", &trace.DataplaneInput{Node: "node-3", From: dataplane.EntryExternal})
	in.Nodes = append(in.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-3"},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "172.18.0.4"}}}})
	f := only(t, trace.Build(in).Findings, trace.NoLocalEndpoints)
	for _, want := range []string{"nodes node-2, node-3 finds no ready local endpoint", "node-2 hosts selected pods, none of them ready; node-3 hosts no selected pod"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("NoLocalEndpoints message lacks %q:\n%s", want, f.Message)
		}
	}
	if strings.Contains(f.Message, "node-3 hosts selected") {
		t.Errorf("node-3 said to host selected pods:\n%s", f.Message)
	}
}

// What a client sees follows the mode of the node's dump: iptables DROPs
// external traffic a Local policy leaves without a local endpoint (a
// timeout), and REJECTs a Service without endpoints (refused).
func TestClientSeesPerMode(t *testing.T) {
	local := input(t, "local-policy.yaml", "lb", nil)
	local.Dataplane = &trace.DataplaneInput{Node: "node-2", IPTables: parse(t, nodeDumpFor(t, local, "node-2", "172.18.0.3")), IPTablesName: "node-2.save"}
	f := only(t, trace.Build(local).Findings, trace.NoLocalEndpoints)
	if want := `clients outside the cluster see a timeout (iptables: a "has no local endpoints" rule`; !strings.Contains(f.Message, want) {
		t.Errorf("NoLocalEndpoints with an iptables dump lacks %q:\n%s", want, f.Message)
	}
	if strings.Contains(f.Message, "IPVS") || strings.Contains(f.Message, "nftables") {
		t.Errorf("NoLocalEndpoints names a mode the node does not run:\n%s", f.Message)
	}

	none := input(t, "no-ready-endpoints.yaml", "web", nil)
	f = only(t, trace.Build(none).Findings, trace.NoReadyEndpoints)
	if want := "clients see connection refused in every mode"; !strings.Contains(f.Message, want) {
		t.Errorf("NoReadyEndpoints without a dump lacks %q:\n%s", want, f.Message)
	}
	none.Dataplane = &trace.DataplaneInput{IPTables: parse(t, nodeDump(t, none)), IPTablesName: "node-1.save"}
	f = only(t, trace.Build(none).Findings, trace.NoReadyEndpoints)
	if want := `clients see connection refused (iptables: a "has no endpoints" rule in filter KUBE-SERVICES`; !strings.Contains(f.Message, want) {
		t.Errorf("NoReadyEndpoints with an iptables dump lacks %q:\n%s", want, f.Message)
	}
}

// only is the one finding with id.
func only(t *testing.T, fs []trace.Finding, id string) trace.Finding {
	t.Helper()
	var got []trace.Finding
	for _, f := range fs {
		if f.ID == id {
			got = append(got, f)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d %s findings, want 1: %+v", len(got), id, fs)
	}
	return got[0]
}

// A --probe connection that succeeds on the undeclared targetPort shows the
// app answering there: a warning, and the endpoint is not marked.
func TestProbedTargetPortAnswers(t *testing.T) {
	in := input(t, "ports.yaml", "numeric", nil)
	rep := &probe.Report{Host: "client", Results: []probe.Result{{Target: probe.Target{Kind: probe.KindEndpoint, Port: "80",
		Addr: netip.MustParseAddrPort("10.244.1.10:9000"), Protocol: "TCP", Pod: "web-0"}, Outcome: probe.OK}}}
	in.Probe = &trace.ProbeObservation{Site: trace.ProbeSite{Where: "pod/default/client"}, Report: rep}
	tr := trace.Build(in)
	f := only(t, tr.Findings, trace.TargetPortNotExposed)
	if f.Severity != trace.SeverityWarning || !strings.Contains(f.Message, "the probe's connection to pod web-0 on that port succeeded") {
		t.Errorf("TargetPortNotExposed = %+v, want a warning citing the probe", f)
	}
	for _, e := range tr.Ports[0].Endpoints {
		if (e.NotServing != "") != (e.Address == "10.244.1.11") {
			t.Errorf("%s notServing %q; only the endpoint not probed should be marked", e.Address, e.NotServing)
		}
	}
}
