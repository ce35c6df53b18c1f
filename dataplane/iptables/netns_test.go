package iptables

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// requireRoot skips the test unless it runs as root with the tools it
// needs; under CI=true it fails instead, so CI cannot skip it silently.
func requireRoot(t *testing.T, tools ...string) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "needs root for network namespaces"
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil && why == "" {
			why = fmt.Sprintf("needs %s in PATH", tool)
		}
	}
	if why == "" {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: not skipping)", why)
	}
	t.Skip(why)
}

// newNetns creates a network namespace of the test's own, deleted when the
// test ends, so the host's rules are never touched.
func newNetns(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	ns := "svctrace-ipt-" + hex.EncodeToString(b)
	if out, err := exec.CommandContext(t.Context(), "ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", ns, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, out)
		}
	})
	return ns
}

func inNetns(t *testing.T, ns, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "ip", append([]string{"netns", "exec", ns}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// TestRealIptablesPrintback loads kube-proxy-style rules into real
// iptables (nft and legacy backends) in a private namespace, parses what
// iptables-save prints back, and checks walks and drift against it.
func TestRealIptablesPrintback(t *testing.T) {
	requireRoot(t, "ip", "iptables-nft-restore", "iptables-legacy-restore")
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
			ns := newNetns(t)
			inNetns(t, ns, restore, "iptables-"+backend+"-restore")
			save := inNetns(t, ns, "", "iptables-"+backend+"-save", "-c")
			actual, err := Parse(save)
			if err != nil {
				t.Fatalf("parse iptables-%s-save output: %v\n%s", backend, err, save)
			}
			for _, s := range svcs[:3] {
				checkThirds(t, actual, s)
			}
			res, err := Walk(actual, pkt("tcp", "10.0.0.5", "172.30.0.42", 80), EntryPod, node)
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
	res, err := Walk(d, p, EntryPod, node)
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
