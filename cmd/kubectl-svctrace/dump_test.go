package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixtures are what a real v1.37.2 cluster printed: `kubectl get
// svc,endpointslices,pods,nodes,events -A -o yaml` and the node's
// iptables-save, with kube-proxy in iptables mode, for the hostnames
// Deployment (3 replicas) behind its Service.
func dumpPath(name string) string { return filepath.Join("..", "..", "testdata", "dumps", name) }

type traceDoc struct {
	Summary struct {
		Errors, Warnings int
		OK               bool
	}
	Findings []struct {
		ID, Message string
	}
	Dataplane []struct {
		Source string
		Walks  []struct {
			Outcomes []struct {
				Verdict, Target string
				Probability     float64
			}
		}
	}
}

func TestRealClusterDump(t *testing.T) {
	save, err := os.ReadFile(dumpPath("node-1.iptables-save"))
	if err != nil {
		t.Fatal(err)
	}
	// Take one endpoint away the way a broken sync would: its KUBE-SEP
	// chain and the jump to it vanish.
	var sep string
	for _, l := range strings.Split(string(save), "\n") {
		if strings.Contains(l, "--to-destination 10.244.1.3:9376") {
			sep = strings.Fields(l)[1]
		}
	}
	var kept []string
	for _, l := range strings.Split(string(save), "\n") {
		if sep == "" || !strings.Contains(l, sep) {
			kept = append(kept, l)
		}
	}
	broken := filepath.Join(t.TempDir(), "broken.save")
	if err := os.WriteFile(broken, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		save    string
		code    int
		shares  map[string]float64
		finding string
	}{
		{"as kube-proxy wrote it", dumpPath("node-1.iptables-save"), ExitOK,
			map[string]float64{"10.244.1.2:9376": 1.0 / 3, "10.244.1.3:9376": 1.0 / 3, "10.244.1.4:9376": 1.0 / 3}, ""},
		// The first rule still takes a third; the last, unconditional, rule
		// now gets the rest: exactly what netfilter would do.
		{"an endpoint chain lost", broken, ExitFindings,
			map[string]float64{"10.244.1.2:9376": 1.0 / 3, "10.244.1.4:9376": 2.0 / 3}, "EndpointChainMissing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runWith(t, nil, false, nil, "-f", dumpPath("kubectl-get-all.yaml"), "hostnames", "--iptables-save", tc.save, "-o", "json")
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", r.code, tc.code, r.out, r.errOut)
			}
			var doc traceDoc
			if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
				t.Fatal(err)
			}
			outcomes := doc.Dataplane[0].Walks[0].Outcomes
			if len(outcomes) != len(tc.shares) {
				t.Errorf("%d outcomes, want %d: %+v", len(outcomes), len(tc.shares), outcomes)
			}
			for _, o := range outcomes {
				if want, ok := tc.shares[o.Target]; !ok || o.Verdict != "DNAT" || o.Probability < want-0.001 || o.Probability > want+0.001 {
					t.Errorf("outcome %+v, want DNAT with share %.3f", o, want)
				}
			}
			found := tc.finding == ""
			for _, f := range doc.Findings {
				found = found || f.ID == tc.finding
			}
			if !found || (tc.finding == "" && len(doc.Findings) > 0) {
				t.Errorf("findings %+v, want %q", doc.Findings, tc.finding)
			}
		})
	}
}

// kube-proxy's IPVS mode only balances packets to addresses bound to
// kube-ipvs0; one missing there is an error and its walk goes nowhere.
func TestIPVSBoundAddresses(t *testing.T) {
	bound, err := os.ReadFile(dumpPath("web.ip-addr.txt"))
	if err != nil {
		t.Fatal(err)
	}
	unbound := filepath.Join(t.TempDir(), "ip-addr.txt")
	if err := os.WriteFile(unbound, []byte(strings.Replace(string(bound), "10.96.0.20/32", "10.96.0.21/32", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addrs string
		bound bool
	}{{dumpPath("web.ip-addr.txt"), true}, {unbound, false}} {
		r := runWith(t, nil, false, nil, "-f", scenarioPath("healthy.yaml"), "web",
			"--ipvs", dumpPath("web.ipvs.txt"), "--ipvs-addrs", tc.addrs, "-o", "json")
		var doc traceDoc
		if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
			t.Fatalf("%s: %v\n%s", tc.addrs, err, r.errOut)
		}
		notBound := false
		for _, f := range doc.Findings {
			notBound = notBound || f.ID == "IPVSAddressNotBound"
		}
		if notBound == tc.bound {
			t.Errorf("%s: IPVSAddressNotBound reported %t, want %t", tc.addrs, notBound, !tc.bound)
		}
		if v := doc.Dataplane[0].Walks[0].Outcomes[0].Verdict; tc.bound == (v != "DNAT") {
			t.Errorf("%s: first outcome %s", tc.addrs, v)
		}
	}
}

// IPVS's "Masq" forwarding rewrites only the destination; the source is
// rewritten by the KUBE-MARK-MASQ rules, which spare traffic from the
// cluster CIDR.
func TestIPVSMasquerade(t *testing.T) {
	for from, want := range map[string]int{"10.244.1.9": 0, "node": 3} {
		r := runWith(t, nil, false, nil, "-f", scenarioPath("healthy.yaml"), "web", "--ipvs", dumpPath("web.ipvs.txt"),
			"--cluster-cidr", "10.244.0.0/16", "--from", from)
		if got := strings.Count(r.out, "MASQUERADE"); got != want {
			t.Errorf("from %s: %d outcomes say MASQUERADE, want %d:\n%s%s", from, got, want, r.out, r.errOut)
		}
	}
}

// The virtual server listing does not depend on the walk: with the Service
// address not local, the walk stops short, yet the node's real servers are
// listed as they are (the stale one as stale, not as missing).
func TestIPVSListingWithoutWalk(t *testing.T) {
	addrs, err := os.ReadFile(dumpPath("web.ip-addr.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, l := range strings.Split(string(addrs), "\n") {
		if !strings.Contains(l, "10.96.0.20/") {
			kept = append(kept, l)
		}
	}
	unbound := filepath.Join(t.TempDir(), "ip-addr.txt")
	if err := os.WriteFile(unbound, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runWith(t, nil, false, nil, "-f", scenarioPath("healthy.yaml"), "web", "--ipvs", dumpPath("web.ipvs.txt"), "--ipvs-addrs", unbound, "-o", "wide")
	for _, want := range []string{"-> 10.244.1.99:8080 weight 1 Masq", "not a local address"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("wide output lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "missing: -> 10.244.1.99") {
		t.Errorf("the stale real server is listed as missing:\n%s", r.out)
	}
}
