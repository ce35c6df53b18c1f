//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/svctrace/kubectl-svctrace/internal/netnstest"
)

// dualStackModes are the modes --serve programs both families in, with
// what holds each family's rules and a foreign IPv6 canary for each.
var dualStackModes = []struct {
	servedMode
	dump6   []string // the IPv6 rules, for before/after comparisons
	canary6 []string // writes foreign IPv6 rules or a table from canary6In
	flags   func(v4, v6 string) []string
}{
	{servedMode: servedModes[0], dump6: []string{"ip6tables-nft-save"},
		canary6: []string{"ip6tables-nft-restore", "--noflush"},
		flags:   func(v4, v6 string) []string { return []string{"--iptables-save", v4, "--ip6tables-save", v6} }},
	{servedMode: servedModes[1], dump6: []string{"nft", "list", "ruleset", "ip6"},
		canary6: []string{"nft", "add table ip6 canary; add chain ip6 canary c { type filter hook input priority 0; }; add rule ip6 canary c udp dport 9 accept"},
		flags:   func(v4, _ string) []string { return []string{"--nft", v4} }},
}

// TestServeDualStack serves a dual-stack NodePort Service from files in
// each mode: IPv6 connections from a pod spread over the three endpoints
// through the ClusterIP and the NodePort as IPv4 ones do, the trace finds
// no drift in either family, and --cleanup leaves the IPv6 rules as they
// were, a foreign canary included.
func TestServeDualStack(t *testing.T) {
	for _, m := range dualStackModes {
		t.Run(m.name, func(t *testing.T) {
			netnstest.Require(t, append([]string{"ip", "sysctl"}, m.tools...)...)
			tp := newTopo(t)
			tp.addIPv6(t)
			netnstest.Exec(t, tp.node, canary6In, m.canary6...)
			before := netnstest.Exec(t, tp.node, "", m.dump6...)
			dir := t.TempDir()
			writeDualStackObjects(t, dir, tp.eps)
			args := []string{"--serve", "--proxy-mode", m.name, "--replace-kube-proxy", "--node", "node-a", "-f", dir,
				"--cluster-cidr", "10.244.0.0/16,fd00:10:244::/48", "--once"}
			code, out, errOut := svctrace(t, t.Context(), tp.node, args...)
			if code != 0 || !strings.Contains(out, "full sync") {
				t.Fatalf("--once: exit %d\n%s\n%s", code, out, errOut)
			}

			const n = 3000
			checkSplit(t, "IPv6 ClusterIP", tp.connect(t, "[fd00:96::20]:80", n), tp.eps, n)
			checkSplit(t, "IPv6 NodePort", tp.connect(t, "[fd00:10:244::1]:30081", 300), tp.eps, 300)
			checkSplit(t, "IPv4 ClusterIP of the same Service", tp.connect(t, "10.96.0.20:80", 300), tp.eps, 300)

			d := t.TempDir()
			v4, v6 := filepath.Join(d, "v4"), filepath.Join(d, "v6")
			for path, cmd := range map[string][]string{v4: m.dump, v6: {"ip6tables-nft-save"}} {
				if err := os.WriteFile(path, []byte(netnstest.Exec(t, tp.node, "", cmd...)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			traceArgs := append([]string{"web6", "-n", "ns", "-f", dir, "--node", "node-a", "--cluster-cidr", "10.244.0.0/16", "-o", "json"}, m.flags(v4, v6)...)
			code, out, errOut = svctrace(t, t.Context(), tp.node, traceArgs...)
			if code != ExitOK || !strings.Contains(out, `"family": "IPv6"`) || !strings.Contains(out, "fd00:10:244:3::2") {
				t.Errorf("trace of web6 on the node --serve programmed: exit %d, want 0 and an IPv6 view walking to the endpoints:\n%s\n%s", code, out, errOut)
			}

			if code, out, errOut := svctrace(t, t.Context(), tp.node, "--serve", "--proxy-mode", m.name, "--replace-kube-proxy", "--cleanup", "--node", "node-a"); code != 0 {
				t.Fatalf("--cleanup: %d %s %s", code, out, errOut)
			}
			// Replace mode keeps KUBE-FIREWALL, which kubelet writes too
			// (Layout.owns): it is the one difference allowed.
			if got := netnstest.Exec(t, tp.node, "", m.dump6...); stripCounters(dropLines(got, "KUBE-FIREWALL")) != stripCounters(before) {
				t.Errorf("--cleanup left or removed IPv6 rules:\n got:\n%s\nwant:\n%s", got, before)
			}
		})
	}
}

// canary6In is the foreign IPv6 rules the iptables case starts with, in
// each table --serve writes to.
const canary6In = "*nat\n:CANARY - [0:0]\n-A CANARY -j RETURN\n-A PREROUTING -j CANARY\nCOMMIT\n" +
	"*filter\n-A FORWARD -p udp -m udp --dport 9 -j DROP\nCOMMIT\n" +
	"*mangle\n-A PREROUTING -p udp -m udp --dport 9 -j RETURN\nCOMMIT\n"

func dropLines(s, sub string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, sub) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// stripCounters drops comments and counters from a dump.
func stripCounters(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			keep = append(keep, counters.ReplaceAllString(l, ""))
		}
	}
	return strings.Join(keep, "\n")
}

// writeDualStackObjects writes a dual-stack node and web6, a
// RequireDualStack NodePort Service (10.96.0.20 and fd00:96::20, NodePort
// 30081) over eps (10.244.N.2) in IPv4 and their fd00:10:244:N::2 twins
// in IPv6.
func writeDualStackObjects(t *testing.T, dir string, eps []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString(`apiVersion: v1
kind: Node
metadata: {name: node-a}
status: {addresses: [{type: InternalIP, address: 10.244.0.1}, {type: InternalIP, address: "fd00:10:244::1"}], conditions: [{type: Ready, status: "True"}]}
---
apiVersion: v1
kind: Service
metadata: {name: web6, namespace: ns}
spec: {type: NodePort, ipFamilyPolicy: RequireDualStack, ipFamilies: [IPv4, IPv6], clusterIP: 10.96.0.20, clusterIPs: [10.96.0.20, "fd00:96::20"],
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30081}]}
`)
	for _, fam := range []string{"IPv4", "IPv6"} {
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web6-%s, namespace: ns, labels: {kubernetes.io/service-name: web6}}
addressType: %s
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
`, strings.ToLower(fam), fam)
		for _, ep := range eps {
			addr := ep
			if fam == "IPv6" {
				addr = fmt.Sprintf(`"fd00:10:244:%s::2"`, strings.Split(ep, ".")[2])
			}
			fmt.Fprintf(&b, "- {addresses: [%s], conditions: {ready: true}}\n", addr)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cluster.yaml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}
