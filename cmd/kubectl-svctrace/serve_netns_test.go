//go:build linux

package main

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// servedMode is what a real-traffic test needs of a --proxy-mode: how to
// read the node's rules as the trace takes them, and what shows they are
// in place.
type servedMode struct {
	name     string
	tools    []string
	dumpFlag string
	dump     []string // the command printing the dump dumpFlag reads
	rules    []string // a listing of the rules, for failure messages
	inPlace  string   // what the dump holds while the rules are in place
}

var servedModes = []servedMode{
	{name: "iptables", tools: []string{"iptables-nft-restore"}, dumpFlag: "--iptables-save", dump: []string{"iptables-nft-save"},
		rules: []string{"iptables-nft-save", "-c", "-t", "filter"}, inPlace: "-j KUBE-SERVICES"},
	{name: "nftables", tools: []string{"nft"}, dumpFlag: "--nft", dump: []string{"nft", "-j", "list", "ruleset"},
		rules: []string{"nft", "list", "ruleset"}, inPlace: `"name": "services"`},
}

// TestServeCarriesRealTraffic programs a node namespace with
// `--serve --replace-kube-proxy --once` from files, in each mode, and
// sends real connections through it from a pod namespace.
func TestServeCarriesRealTraffic(t *testing.T) {
	eachServedMode(t, func(t *testing.T, m servedMode, tp *topo, dir string) {
		args := []string{"--serve", "--proxy-mode", m.name, "--replace-kube-proxy", "--node", "node-a", "-f", dir, "--cluster-cidr", "10.244.0.0/16"}
		code, out, errOut := svctrace(t, t.Context(), tp.node, append(args, "--once")...)
		if code != 0 || !strings.Contains(out, "full sync") {
			t.Fatalf("--once: exit %d\n%s\n%s", code, out, errOut)
		}

		const n = 3000
		checkSplit(t, "ClusterIP", tp.connect(t, "10.96.0.10:80", n), tp.eps, n)
		checkSplit(t, "NodePort", tp.connect(t, "10.244.0.1:30080", 300), tp.eps, 300)
		if got := tp.connect(t, "10.96.0.12:80", 3); got["refused"] != 3 {
			t.Errorf("Service without endpoints: %v, want every connection refused\n%s", got, netnstest.Exec(t, tp.node, "", m.rules...))
		}
		if got := tp.connect(t, "10.96.0.11:80", 50); len(got) != 1 {
			t.Errorf("ClientIP affinity: %v, want one endpoint for all 50 connections", got)
		}
		checkNoDrift(t, tp, dir, m)
		checkUnreadyAndStop(t, tp, dir, args, m)
	})
}

// eachServedMode runs test in a subtest per mode, on servedTopo's
// topology and cluster.
func eachServedMode(t *testing.T, test func(t *testing.T, m servedMode, tp *topo, dir string)) {
	for _, m := range servedModes {
		t.Run(m.name, func(t *testing.T) {
			tp, dir := servedTopo(t, m)
			test(t, m, tp, dir)
		})
	}
}

// servedTopo is the topology of newTopo for mode m, and a directory
// holding writeObjects' cluster for its endpoints, unlabelled.
func servedTopo(t *testing.T, m servedMode) (*topo, string) {
	t.Helper()
	netnstest.Require(t, append([]string{"ip", "sysctl"}, m.tools...)...)
	tp := newTopo(t)
	dir := t.TempDir()
	writeObjects(t, dir, "", tp.eps, "")
	return tp, dir
}

// checkSplit wants each endpoint within five standard deviations of n/3
// (binomial, p = 1/3): a fair split passes with certainty in practice and
// a skewed one (say 1/2, 1/4, 1/4) fails.
func checkSplit(t *testing.T, what string, got map[string]int, eps []string, n int) {
	t.Helper()
	mean := float64(n) / 3
	sd := math.Sqrt(float64(n) * (1.0 / 3) * (2.0 / 3))
	for _, ep := range eps {
		if d := math.Abs(float64(got[ep]) - mean); d > 5*sd {
			t.Errorf("%s: endpoint %s got %d of %d connections, want %.0f ± %.0f; all: %v", what, ep, got[ep], n, mean, 5*sd, got)
		}
	}
	if len(got) != len(eps) {
		t.Errorf("%s: answers from %v, want only the endpoints", what, got)
	}
}

// checkNoDrift traces a Service against the node's dump (iptables-save,
// nft -j list ruleset): the generator that programmed it and the checker
// are one.
func checkNoDrift(t *testing.T, tp *topo, dir string, m servedMode) {
	t.Helper()
	dump := filepath.Join(t.TempDir(), "node-a.dump")
	if err := os.WriteFile(dump, []byte(netnstest.Exec(t, tp.node, "", m.dump...)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"web", "sticky", "empty"} {
		code, out, errOut := svctrace(t, t.Context(), tp.node, svc, "-n", "ns", "-f", dir, m.dumpFlag, dump,
			"--node", "node-a", "--cluster-cidr", "10.244.0.0/16", "-o", "json")
		// "empty" has no selector, an error finding of its own; drift
		// findings name the mode's place ("iptables/…", "nftables/…") as
		// their subject.
		if (code != ExitOK && code != ExitFindings) || strings.Contains(out, `"subject": "`+m.name+`/`) || !strings.Contains(out, `"chains"`) {
			t.Errorf("trace of %s on a node served by --serve: exit %d, drift or errors:\n%s\n%s", svc, code, out, errOut)
		}
	}
}

// checkUnreadyAndStop runs the long-lived proxy, marks an endpoint not
// ready in the files, and measures how long until no new connection
// reaches it. Stopping the proxy leaves its rules in place.
func checkUnreadyAndStop(t *testing.T, tp *topo, dir string, args []string, m servedMode) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		code, _, _ := svctrace(t, ctx, tp.node, append(args, "--min-sync-period", "0", "--metrics-bind-address", "off", "--healthz-bind-address", "off")...)
		done <- code
	}()
	gone := tp.eps[2]
	time.Sleep(1500 * time.Millisecond) // the first full sync
	start := time.Now()
	writeObjects(t, dir, "", tp.eps, gone)
	var latency time.Duration
	for streak := 0; streak < 200; {
		if time.Since(start) > 30*time.Second {
			t.Fatal("the unready endpoint still gets new connections after 30s")
		}
		got := tp.connect(t, "10.96.0.10:80", 10)
		if got[gone] > 0 {
			streak = 0
			continue
		}
		if streak == 0 {
			latency = time.Since(start)
		}
		streak += 10
	}
	t.Logf("programming latency (file change to no new connections on the unready endpoint, polling files every 1s): %v", latency)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("stopping the proxy: exit %d", code)
	}
	if dump := netnstest.Exec(t, tp.node, "", m.dump...); !strings.Contains(dump, m.inPlace) {
		t.Errorf("rules gone after the proxy stopped:\n%s", dump)
	}
}
