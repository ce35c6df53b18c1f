package iptables

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/svctrace/kubectl-svctrace/dataplane"
)

func readText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dropLines removes every line containing one of subs.
func dropLines(text string, subs ...string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		drop := false
		for _, s := range subs {
			drop = drop || strings.Contains(l, s)
		}
		if !drop {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func mustParse(t *testing.T, text string) *Dump {
	t.Helper()
	d, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// facts lists the facts of d that are set.
func facts(d dataplane.Diff) string {
	var b strings.Builder
	for _, f := range []struct {
		name string
		set  bool
		v    any
	}{
		{"whole", d.Whole, d.Whole}, {"service", d.Service != "", d.Service},
		{"target", d.Target != "", d.Target}, {"wantTarget", d.WantTarget != "", d.WantTarget},
		{"targetMissing", d.TargetMissing, d.TargetMissing}, {"targetEndpoint", d.TargetEndpoint != "", d.TargetEndpoint},
		{"share", d.Share != 0, d.Share}, {"wantShare", d.WantShare != 0, d.WantShare},
	} {
		if f.set {
			if x, ok := f.v.(float64); ok {
				f.v = strconv.FormatFloat(x, 'f', 4, 64)
			}
			fmt.Fprintf(&b, " %s=%v", f.name, f.v)
		}
	}
	return b.String()
}

func renderDiffs(diffs []dataplane.Diff) string {
	var b strings.Builder
	for _, d := range diffs {
		fmt.Fprintf(&b, "%s %s %s:%s\n", d.Kind, d.Where.Table, d.Where.Chain, facts(d))
		if d.Expected != "" {
			fmt.Fprintf(&b, "  expected line %d: %s\n", d.ExpectedLine, d.Expected)
		}
		if d.Actual != "" {
			fmt.Fprintf(&b, "  actual line %d: %s\n", d.Where.Line, d.Actual)
		}
	}
	return b.String()
}

func TestDrift(t *testing.T) {
	restore := readText(t, "kube-proxy.restore")
	save := readText(t, "kube-proxy-nft.save")
	legacy := readText(t, "kube-proxy-legacy.save")
	svc1 := Service{PortNames: []string{"ns1/svc1:p80"}}
	tests := []struct {
		name     string
		expected string
		actual   string
		svc      Service
		want     []dataplane.DiffKind
	}{
		{name: "in-sync", expected: restore, actual: save, svc: svc1},
		{name: "in-sync-legacy", expected: restore, actual: legacy, svc: svc1},
		{name: "in-sync-no-endpoints", expected: restore, actual: save, svc: Service{PortNames: []string{"ns2/svc2:p80"}}},
		{name: "in-sync-affinity", expected: restore, actual: legacy, svc: Service{PortNames: []string{"ns3/svc3:p80"}}},
		{name: "old-5-decimal-probabilities", expected: restore, svc: svc1,
			actual: strings.Replace(save, "0.33333333349", "0.33332999982", 1)},
		{name: "kube-services-entry-missing", expected: restore, svc: svc1,
			actual: dropLines(save, `"ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC`),
			want:   []dataplane.DiffKind{ServiceChainMissing}},
		{name: "service-chain-missing", expected: restore, svc: svc1,
			actual: dropLines(save, "-A KUBE-SVC-XPGD46QRK7WJZT7O", ":KUBE-SVC-XPGD46QRK7WJZT7O"),
			want:   []dataplane.DiffKind{ServiceChainMissing}},
		{name: "endpoint-chain-missing", expected: restore, svc: svc1,
			actual: strings.Replace(dropLines(save, "KUBE-SEP-LFURT5X5BWLIR343"),
				"-m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-LXVODXWDISEETFEF", "-j KUBE-SEP-LXVODXWDISEETFEF", 1),
			want: []dataplane.DiffKind{ProbabilityMismatch, EndpointChainMissing}},
		{name: "stale-endpoint", expected: restore, svc: svc1,
			actual: strings.Replace(strings.Replace(save,
				":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]\n", ":KUBE-SEP-SXIVWICOYRO3J4NJ - [0:0]\n:KUBE-SEP-STALE0000000000 - [0:0]\n", 1),
				"[0:0] -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.1.3:80\" -j KUBE-SEP-LFURT5X5BWLIR343",
				"[0:0] -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.1.3:80\" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-LFURT5X5BWLIR343\n"+
					"[0:0] -A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment \"ns1/svc1:p80 -> 10.180.9.9:80\" -j KUBE-SEP-STALE0000000000\n"+
					"[0:0] -A KUBE-SEP-STALE0000000000 -p tcp -m comment --comment \"ns1/svc1:p80\" -m tcp -j DNAT --to-destination 10.180.9.9:80", 1),
			want: []dataplane.DiffKind{ProbabilityMismatch, StaleEndpointChain}},
		{name: "probability-mismatch", expected: restore, svc: svc1,
			actual: strings.Replace(save, "0.50000000000 -j KUBE-SEP-LXVODXWDISEETFEF", "0.25000000000 -j KUBE-SEP-LXVODXWDISEETFEF", 1),
			want:   []dataplane.DiffKind{ProbabilityMismatch, ProbabilityMismatch}},
		{name: "dnat-target-mismatch", expected: restore, svc: svc1,
			actual: strings.Replace(save, "--to-destination 10.180.0.2:80", "--to-destination 10.180.0.2:8080", 1),
			want:   []dataplane.DiffKind{DNATTargetMismatch}},
		{name: "no-endpoints-reject-missing", expected: restore, svc: Service{PortNames: []string{"ns2/svc2:p80"}},
			actual: dropLines(save, `-d 172.30.0.42/32 -p tcp -m comment --comment "ns2/svc2:p80 has no endpoints"`),
			want:   []dataplane.DiffKind{NoEndpointsRejectRule}},
		{name: "reject-although-endpoints", expected: restore, svc: svc1,
			actual: strings.Replace(save, "ns2/svc2:p80 has no endpoints\" -m tcp --dport 80", "ns1/svc1:p80 has no endpoints\" -m tcp --dport 80", 1),
			want:   []dataplane.DiffKind{StaleServiceRule}},
		{name: "stopped-proxy", expected: dropLines(restore, "ns1/svc1", "XPGD46QRK7WJZT7O", "SXIVWICOYRO3J4NJ", "LXVODXWDISEETFEF", "LFURT5X5BWLIR343"),
			actual: save, svc: svc1,
			want: []dataplane.DiffKind{StaleProxyRules, StaleProxyRules, StaleProxyRules, StaleProxyRules, StaleProxyRules, StaleProxyRules, StaleProxyRules}},
		{name: "portal-jump-missing", expected: restore, svc: svc1,
			actual: dropLines(save, "-A PREROUTING -m comment"),
			want:   []dataplane.DiffKind{ServicePortalsJumpMissing}},
		{name: "jump-to-endpoint-missing", expected: restore, svc: svc1,
			actual: dropLines(save, "-j KUBE-SEP-SXIVWICOYRO3J4NJ"),
			want:   []dataplane.DiffKind{EndpointChainMissing, ProbabilityMismatch, ProbabilityMismatch}},
		{name: "masquerade-rule-missing", expected: restore, svc: svc1,
			actual: dropLines(save, "-A KUBE-SVC-XPGD46QRK7WJZT7O ! -s 10.0.0.0/8"),
			want:   []dataplane.DiffKind{ServiceRuleMissing}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			diffs := Drift(mustParse(t, tc.expected), mustParse(t, tc.actual), tc.svc)
			var got []dataplane.DiffKind
			for _, d := range diffs {
				got = append(got, d.Kind)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("difference IDs (-want +got):\n%s\n%s", diff, renderDiffs(diffs))
			}
			if len(tc.want) > 0 {
				checkGolden(t, filepath.Join("drift", tc.name+".golden"), renderDiffs(diffs))
			}
		})
	}
}

// TestDriftTolerates covers what kube-proxy itself tolerates between
// releases and modes: large-cluster mode without comments, old %0.5f
// probabilities, and old trailing-colon port names whose hashes differ.
func TestDriftTolerates(t *testing.T) {
	eps := []string{"10.180.0.1:80", "10.180.0.2:80", "10.180.0.3:80"}
	want := synthSvc{portName: "ns4/svc4", clusterIP: "172.30.0.44", port: 80, endpoints: eps}
	variants := map[string]synthSvc{
		"large-cluster":   {portName: "ns4/svc4", clusterIP: "172.30.0.44", port: 80, endpoints: eps, noComment: true},
		"five-decimals":   {portName: "ns4/svc4", clusterIP: "172.30.0.44", port: 80, endpoints: eps, probFmt: "%0.5f"},
		"trailing-colon":  {portName: "ns4/svc4:", clusterIP: "172.30.0.44", port: 80, endpoints: eps},
		"endpoint-order":  {portName: "ns4/svc4", clusterIP: "172.30.0.44", port: 80, endpoints: []string{eps[2], eps[0], eps[1]}},
		"all-differences": {portName: "ns4/svc4:", clusterIP: "172.30.0.44", port: 80, endpoints: []string{eps[1], eps[2], eps[0]}, probFmt: "%0.5f", noComment: true},
	}
	exp := mustParse(t, synthDump([]synthSvc{want}))
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			act := mustParse(t, synthDump([]synthSvc{v}))
			if diffs := Drift(exp, act, Service{PortNames: []string{"ns4/svc4"}}); len(diffs) > 0 {
				t.Errorf("want no differences, got:\n%s", renderDiffs(diffs))
			}
		})
	}
}

// TestDriftIPv6Affinity: ip6tables-save prints the recent mask as
// ffff:...:ffff where the restore input has none.
func TestDriftIPv6Affinity(t *testing.T) {
	const head = "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-A - [0:0]\n:KUBE-SEP-B - [0:0]\n"
	exp := mustParse(t, head+`-A KUBE-SERVICES -m comment --comment "ns/s:p cluster IP" -m tcp -p tcp -d fd00::1 --dport 80 -j KUBE-SVC-A
-A KUBE-SVC-A -m comment --comment "ns/s:p -> [fd00:10::5]:80" -m recent --name KUBE-SEP-B --rcheck --seconds 10800 --reap -j KUBE-SEP-B
-A KUBE-SVC-A -m comment --comment "ns/s:p -> [fd00:10::5]:80" -j KUBE-SEP-B
-A KUBE-SEP-B -m comment --comment ns/s:p -m recent --name KUBE-SEP-B --set -m tcp -p tcp -j DNAT --to-destination [fd00:10::5]:80
COMMIT
`)
	act := mustParse(t, head+`-A KUBE-SERVICES -d fd00::1/128 -p tcp -m comment --comment "ns/s:p cluster IP" -m tcp --dport 80 -j KUBE-SVC-A
-A KUBE-SVC-A -m comment --comment "ns/s:p -> [fd00:10::5]:80" -m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-B --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -j KUBE-SEP-B
-A KUBE-SVC-A -m comment --comment "ns/s:p -> [fd00:10::5]:80" -j KUBE-SEP-B
-A KUBE-SEP-B -p tcp -m comment --comment "ns/s:p" -m recent --set --name KUBE-SEP-B --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource -m tcp -j DNAT --to-destination [fd00:10::5]:80
COMMIT
`)
	if diffs := Drift(exp, act, Service{PortNames: []string{"ns/s:p"}}); len(diffs) > 0 {
		t.Errorf("want no differences, got:\n%s", renderDiffs(diffs))
	}
}
