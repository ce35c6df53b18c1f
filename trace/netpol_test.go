package trace_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/scenario"
	"github.com/svctrace/kubectl-svctrace/probe"
	"github.com/svctrace/kubectl-svctrace/trace"
)

// A --probe from the client weighs NetworkPolicyBlocks: a timeout to the
// endpoint confirms it, a connection that gets through means the network
// plugin does not enforce the policy, and a probe from elsewhere says
// nothing about this client.
func TestProbeWeighsNetworkPolicyBlocks(t *testing.T) {
	for _, tc := range []struct {
		name, where string
		outcome     probe.Outcome
		severity    trace.Severity
		says        string
	}{
		{"timeout confirms", "pod/shop/batch-0", probe.TimedOut, trace.SeverityError, "The probe from the client timed out connecting to web-0 (10.244.1.10:8080/TCP), as a policy that drops makes it"},
		{"a connection means no enforcement", "pod/shop/batch-0", probe.OK, trace.SeverityWarning, "Yet the probe from the client connected to web-0 (10.244.1.10:8080/TCP): the network plugin does not enforce this policy"},
		{"a probe from another pod", "pod/shop/frontend-0", probe.OK, trace.SeverityError, "A --probe from the client would confirm it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := scenario.InputFrom(t, "netpol.yaml", "shop", "web", "shop/batch-0")
			in.Probe = &trace.ProbeObservation{
				Site: trace.ProbeSite{Where: tc.where, Namespace: "shop", Entry: dataplane.EntryPod, Node: "node-1"},
				Report: &probe.Report{Results: []probe.Result{{
					Target:  probe.Target{Kind: probe.KindEndpoint, Port: "http", Addr: netip.MustParseAddrPort("10.244.1.10:8080"), Protocol: "TCP", Pod: "web-0"},
					Outcome: tc.outcome,
				}}},
			}
			var found bool
			for _, f := range trace.Build(in).Findings {
				if f.ID != trace.NetworkPolicyBlocks {
					continue
				}
				found = true
				if f.Severity != tc.severity || !strings.Contains(f.Message+" "+f.Hint, tc.says) {
					t.Errorf("got %s: %s (%s); want %s saying %q", f.Severity, f.Message, f.Hint, tc.severity, tc.says)
				}
			}
			if !found {
				t.Error("no NetworkPolicyBlocks finding")
			}
		})
	}
}

// A node or an outside address is matched by ipBlock rules only: from
// node-2 the policies deny web-0 and the hint is an ipBlock rule; from
// node-1, web-0's own node, it is always allowed; an outside address with
// no ipBlock admitting it is denied.
func TestAddressClients(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dp      trace.DataplaneInput
		blocked string
	}{
		{"another node", trace.DataplaneInput{From: dataplane.EntryNode, Node: "node-2", NodeIPs: []netip.Addr{netip.MustParseAddr("172.18.0.3")}}, `node/node-2 (172.18.0.3) may not connect to web-0 (10.244.1.10:8080/TCP)`},
		{"the endpoint's own node", trace.DataplaneInput{From: dataplane.EntryNode, Node: "node-1"}, ""},
		{"an outside address", trace.DataplaneInput{From: dataplane.EntryExternal, FromIP: netip.MustParseAddr("203.0.113.5")}, `"ipBlock": { "cidr": "203.0.113.5/32" }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := scenario.Input(t, "netpol.yaml", "shop", "web")
			in.Dataplane = &tc.dp
			tr := trace.Build(in)
			var got string
			for _, f := range tr.Findings {
				if f.ID == trace.NetworkPolicyBlocks {
					got = f.Message + " " + f.Hint
				}
			}
			if (tc.blocked == "") != (got == "") || !strings.Contains(got, tc.blocked) {
				t.Errorf("NetworkPolicyBlocks %q, want one saying %q (none when empty)", got, tc.blocked)
			}
			if tr.NetworkPolicy == nil || tr.NetworkPolicy.Client == nil || tr.NetworkPolicy.Client.From == "" {
				t.Errorf("networkPolicy.client %+v, want the address's verdicts", tr.NetworkPolicy)
			}
		})
	}
}
