package iptables

import (
	"math"
	"net/netip"
	"testing"

	"github.com/svctrace/kubectl-svctrace/dataplane"
	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// TestRealIptablesPrintback loads kube-proxy-style rules into real
// iptables (nft and legacy backends) in a private namespace, parses what
// iptables-save prints back, and checks walks and drift against it.
func TestRealIptablesPrintback(t *testing.T) {
	netnstest.Require(t, "ip", "iptables-nft-restore", "iptables-legacy-restore")
	eps := []string{"10.180.0.1:80", "10.180.0.2:80", "10.180.1.3:80"}
	svcs := []synthSvc{
		{portName: "ns1/svc1:p80", clusterIP: "172.30.0.41", port: 80, endpoints: eps},
		{portName: "ns1/old:p80", clusterIP: "172.30.0.45", port: 80, endpoints: eps, probFmt: "%0.5f"},
		{portName: "ns1/big:p80", clusterIP: "172.30.0.46", port: 80, endpoints: eps, noComment: true},
		{portName: "ns2/svc2:p80", clusterIP: "172.30.0.42", port: 80},
	}
	restore := synthDump(svcs)
	for _, backend := range []string{"nft", "legacy"} {
		t.Run(backend, func(t *testing.T) {
			ns := netnstest.New(t, "ipt")
			netnstest.Exec(t, ns, restore, "iptables-"+backend+"-restore")
			save := netnstest.Exec(t, ns, "", "iptables-"+backend+"-save", "-c")
			actual, err := Parse(save)
			if err != nil {
				t.Fatalf("parse iptables-%s-save output: %v\n%s", backend, err, save)
			}
			for _, s := range svcs[:3] {
				checkThirds(t, actual, s)
			}
			res, err := Walk(actual, pkt("tcp", "10.0.0.5", "172.30.0.42", 80), dataplane.EntryPod, node)
			if err != nil || len(res.Outcomes) != 1 || res.Outcomes[0].Verdict != VerdictReject {
				t.Errorf("service without endpoints: want one REJECT, got %v\n%s", err, res)
			}
			expected, err := Parse(restore)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range svcs {
				if diffs := Drift(expected, actual, Service{PortNames: []string{s.portName}}); len(diffs) > 0 {
					t.Errorf("%s: printback drifts from its own restore input:\n%s", s.portName, renderDiffs(diffs))
				}
			}
		})
	}
}

// checkThirds walks a packet to the service and wants each endpoint hit
// with probability 1/3 (within the kernel's 2^-31 rounding and %0.5f).
func checkThirds(t *testing.T, d *Dump, s synthSvc) {
	t.Helper()
	p := pkt("tcp", "10.0.0.5", s.clusterIP, uint16(s.port))
	res, err := Walk(d, p, dataplane.EntryPod, node)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, o := range res.Outcomes {
		if o.Verdict != VerdictDNAT {
			t.Errorf("%s: unexpected outcome %s", s.portName, o.ChainPath())
			continue
		}
		got[o.Destination.String()] += o.Probability
	}
	for _, ep := range s.endpoints {
		if math.Abs(got[netip.MustParseAddrPort(ep).String()]-1.0/3) > 1e-4 {
			t.Errorf("%s: endpoint %s gets %v, want 1/3\n%s", s.portName, ep, got[ep], res)
		}
	}
}
